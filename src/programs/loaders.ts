import { environList } from '../djb/pathexec.js';
import { ChainState } from '../supervision/chain.js';
import type { Loaders } from '../supervision/link.js';
import type { ProgramIo } from '../supervision/program.js';
import { chainFromFghack, runChain } from './chain.js';
import { link as envdir } from './envdir.js';
import { link as envuidgid } from './envuidgid.js';
import { FGHACK_CHILD_ENV, fghackHere } from './fghack.js';
import { link as pgrphack } from './pgrphack.js';
import { link as setlock } from './setlock.js';
import { link as setuidgid } from './setuidgid.js';
import { link as softlimit } from './softlimit.js';

/**
 * The registry of chain-loaders: each loader's file exports its step
 * (`link`), chain.ts runs steps it is given, and the programs' entries are
 * here, where both meet. Nothing imports this module but src/bin/.
 */
export const LOADERS: Loaders = {
  links: { envdir, envuidgid, pgrphack, setlock, setuidgid, softlimit },
  fghack: fghackHere,
};

/** The program `name` (one of LOADERS.links): runs its step and every loader of ours it execs, in this process. */
export function loaderMain(name: keyof typeof LOADERS.links & string): (argv: string[], io: ProgramIo) => Promise<number> {
  return (argv, io) => runChain(LOADERS, name, argv, io);
}

/**
 * fghack child: runs child holding write ends of a pipe, waits until every
 * copy is closed (the child and whatever it left in the background), then
 * exits with the child's exit code. Started again by itself in child mode
 * (FGHACK_CHILD_ENV), it goes on with the chain.
 */
export async function fghackMain(argv: string[], io: ProgramIo): Promise<number> {
  const limits = io.env[FGHACK_CHILD_ENV];
  if (limits !== undefined) {
    delete io.env[FGHACK_CHILD_ENV];
    const state = new ChainState(environList(io.env));
    state.adoptLimits(limits);
    return chainFromFghack(LOADERS, argv, state, io);
  }
  const script = process.argv[1];
  if (script === undefined) {
    io.stderr('fghack: fatal: unable to find this program\n');
    return 111;
  }
  return fghackHere(script, argv, new ChainState(environList(io.env)), io);
}
