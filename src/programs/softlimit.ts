import type { ChainState } from '../supervision/chain.js';
import { errstr } from '../djb/errstr.js';
import { getopt } from '../djb/getopt.js';
import type { LinkIo, LinkResult } from '../supervision/link.js';
import { parseLimit, RESOURCES } from '../supervision/loader-rules.js';

const USAGE =
  'softlimit: usage: softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child\n';

class Usage extends Error {}

function apply(state: ChainState, resource: number, arg: string): void {
  const r = state.getrlimit(resource);
  if (arg === '=') {
    r.cur = r.max;
  } else {
    const u = parseLimit(arg);
    if (u === undefined) throw new Usage();
    r.cur = u > r.max ? r.max : u;
  }
  state.setrlimit(resource, r);
}

/**
 * softlimit [opts] child: lower (or raise to hard) soft limits in option
 * order; exec child. The limits are the chain's: set for real only right
 * before the first program that is not ours (see ChainState).
 */
export function link(argv: string[], io: LinkIo): LinkResult {
  const parsed = getopt(argv, 'a:c:d:f:l:m:o:p:r:s:t:', io.prog);
  for (const { opt, arg } of parsed.opts) {
    for (const resource of RESOURCES[opt]!) {
      try {
        apply(io.state, resource, arg ?? '');
      } catch (err) {
        if (err instanceof Usage) {
          io.stderr(USAGE);
          return { exit: 100 };
        }
        io.stderr(`softlimit: fatal: getrlimit failed: ${errstr(err)}\n`);
        return { exit: 111 };
      }
    }
  }
  if (parsed.error !== undefined || parsed.rest.length === 0) {
    if (parsed.error !== undefined) io.stderr(parsed.error + '\n');
    io.stderr(USAGE);
    return { exit: 100 };
  }
  return { next: parsed.rest };
}
