import { pathToFileURL } from 'node:url';
import { RLIMIT, setrlimit } from '../posix/index.js';
import { ChainState, ourProgram, ownDir, type OurProgram } from '../supervision/chain.js';
import { errstr } from '../supervision/errstr.js';
import { progName } from '../supervision/getopt.js';
import type { Link } from '../supervision/link.js';
import { environList } from '../supervision/pathexec.js';
import { PACKAGE_DIR_ENV, type ProgramIo } from '../supervision/program.js';
import { link as envdir } from './envdir.js';
import { link as envuidgid } from './envuidgid.js';
import { link as pgrphack } from './pgrphack.js';
import { link as setlock } from './setlock.js';
import { link as setuidgid } from './setuidgid.js';
import { link as softlimit } from './softlimit.js';

/** The loaders one process runs in a row. */
const LINKS: Record<string, Link> = { envdir, envuidgid, pgrphack, setlock, setuidgid, softlimit };

/** Ours, run in this process when a link would exec them: the loaders, and multilog as the last link. */
const IN_PROCESS = new Set([...Object.keys(LINKS), 'multilog']);

/** Limits a Node process lives with; the others are not set before an in-process multilog. */
const NODE_SAFE = new Set<number>([RLIMIT.CORE, RLIMIT.FSIZE, RLIMIT.CPU, RLIMIT.RSS]);

/**
 * Runs loader `first` and, each time a loader would exec another loader of
 * ours, that one's work here too, in order, with its own messages and exit
 * codes; execs the first program that is not ours (or runs our multilog
 * here). Returns only an exit code of a link that stopped the chain.
 */
export async function runChain(first: string, argv: string[], io: ProgramIo): Promise<number> {
  const state: ChainState = new ChainState(environList(io.env));
  const dir = ownDir(process.argv[1]);
  let name = first;
  let args = argv;
  let argv0 = io.argv0;
  for (;;) {
    const result = LINKS[name]!(args, { prog: progName(argv0, name), state, stderr: io.stderr });
    if ('exit' in result) return result.exit;
    const searchPath = state.env('PATH');
    const next = ourProgram(result.next, searchPath, dir, IN_PROCESS);
    state.edit(result.edits ?? []);
    if (!next) state.execFinal(name, result.next, searchPath, io.stderr);
    const refused = state.execWouldFail();
    if (refused) {
      io.stderr(`${name}: fatal: unable to run ${result.next[0] ?? ''}: ${errstr(refused)}\n`);
      return 111;
    }
    if (next.name === 'multilog') return runHere(next, state);
    name = next.name;
    args = next.argv.slice(1);
    argv0 = next.argv[0] ?? name;
  }
}

/**
 * Starts our program `p` in this process as its own exec would: its file is
 * loaded as the entry it is, with argv, environment and package marker as the
 * wrapper gives them. Lock descriptors stay open and inheritable; of the
 * pending limits only those Node lives with are set.
 */
async function runHere(p: OurProgram, state: ChainState): Promise<number> {
  state.keepHeld();
  for (const [res, rl] of state.pendingLimits()) if (NODE_SAFE.has(res)) setrlimit(res, rl);
  for (const k of Object.keys(process.env)) delete process.env[k];
  for (const entry of state.environ) {
    const at = entry.indexOf('=');
    process.env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  if (p.packageDir !== undefined) process.env[PACKAGE_DIR_ENV] = p.packageDir;
  process.argv = [process.argv[0]!, p.file, ...p.argv.slice(1)];
  process.exitCode = undefined;
  await import(pathToFileURL(p.file).href);
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
