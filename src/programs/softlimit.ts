import { RLIMIT } from '../posix/index.js';
import type { ChainState } from '../supervision/chain.js';
import { errstr } from '../supervision/errstr.js';
import { getopt } from '../supervision/getopt.js';
import type { LinkIo, LinkResult } from '../supervision/link.js';
import type { ProgramIo } from '../supervision/program.js';
import { runChain } from './chain.js';

const USAGE =
  'softlimit: usage: softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child\n';

/** Which resources each option sets (`-m` sets four at once). */
export const RESOURCES: Record<string, number[]> = {
  a: [RLIMIT.AS],
  c: [RLIMIT.CORE],
  d: [RLIMIT.DATA],
  f: [RLIMIT.FSIZE],
  l: [RLIMIT.MEMLOCK],
  m: [RLIMIT.DATA, RLIMIT.STACK, RLIMIT.MEMLOCK, RLIMIT.AS],
  o: [RLIMIT.NOFILE],
  p: [RLIMIT.NPROC],
  r: [RLIMIT.RSS],
  s: [RLIMIT.STACK],
  t: [RLIMIT.CPU],
};

const ULONG = 1n << 64n;

/**
 * The value 0.76 reads with scan_ulong: leading decimal digits (none = 0),
 * wrapping at 2^64; undefined when anything follows the digits.
 */
export function parseLimit(arg: string): bigint | undefined {
  let u = 0n;
  let i = 0;
  for (; i < arg.length && arg[i]! >= '0' && arg[i]! <= '9'; i++) u = (u * 10n + BigInt(arg.charCodeAt(i) - 48)) % ULONG;
  return i === arg.length ? u : undefined;
}

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

export function main(argv: string[], io: ProgramIo): Promise<number> {
  return runChain('softlimit', argv, io);
}
