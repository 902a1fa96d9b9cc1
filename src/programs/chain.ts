import { pathToFileURL } from 'node:url';
import { RLIMIT, setrlimit } from '../posix/index.js';
import { ChainState, ourProgram, ownDir, type OurProgram } from '../supervision/chain.js';
import { errstr } from '../djb/errstr.js';
import { progName } from '../djb/getopt.js';
import type { Loaders } from '../supervision/link.js';
import { environList, type EnvEdit } from '../djb/pathexec.js';
import { PACKAGE_DIR_ENV, type ProgramIo } from '../supervision/program.js';

/** Ours, run in this process when a link would exec them: the loaders, fghack, and multilog as the last link. */
function inProcess(loaders: Loaders): Set<string> {
  return new Set([...Object.keys(loaders.links), 'multilog', 'fghack']);
}

/** Limits a Node process lives with; the others are not set before an in-process multilog. */
const NODE_SAFE = new Set<number>([RLIMIT.CORE, RLIMIT.FSIZE, RLIMIT.CPU, RLIMIT.RSS]);

/** The next link to run in this process. */
interface Next {
  name: string;
  args: string[];
  argv0: string;
}

/**
 * Runs loader `first` and, each time a loader would exec another loader of
 * ours, that one's work here too, in order, with its own messages and exit
 * codes; execs the first program that is not ours (or runs our multilog or
 * fghack here). Returns only an exit code of a link that stopped the chain.
 * `loaders` is the registry (programs/loaders.ts).
 */
export async function runChain(loaders: Loaders, first: string, argv: string[], io: ProgramIo, state: ChainState = new ChainState(environList(io.env))): Promise<number> {
  let link: Next = { name: first, args: argv, argv0: io.argv0 };
  for (;;) {
    const result = loaders.links[link.name]!(link.args, { prog: progName(link.argv0, link.name), state, stderr: io.stderr });
    if ('exit' in result) return result.exit;
    const after = await execNext(loaders, state, link.name, result.next, result.edits ?? [], io);
    if (typeof after === 'number') return after;
    link = after;
  }
}

/**
 * What `prog`'s exec of `argv` (with `edits`) does: the next link when it is
 * one of our loaders, our multilog or fghack run here, else the real execve.
 */
export async function execNext(loaders: Loaders, state: ChainState, prog: string, argv: string[], edits: readonly EnvEdit[], io: ProgramIo): Promise<number | Next> {
  const searchPath = state.env('PATH');
  const next = ourProgram(argv, searchPath, ownDir(process.argv[1]), inProcess(loaders));
  state.edit(edits);
  if (!next) state.execFinal(prog, argv, searchPath, io.stderr);
  const refused = state.execWouldFail();
  if (refused) {
    io.stderr(`${prog}: fatal: unable to run ${argv[0] ?? ''}: ${errstr(refused)}\n`);
    return 111;
  }
  if (next.name === 'multilog') return runHere(next, state);
  if (next.name === 'fghack') return loaders.fghack(next.file, next.argv.slice(1), state, io);
  return { name: next.name, args: next.argv.slice(1), argv0: next.argv[0] ?? next.name };
}

/** Continues a chain in fghack's child: `argv` is what fghack execs. */
export async function chainFromFghack(loaders: Loaders, argv: string[], state: ChainState, io: ProgramIo): Promise<number> {
  const after = await execNext(loaders, state, 'fghack', argv, [], io);
  if (typeof after === 'number') return after;
  return runChain(loaders, after.name, after.args, { ...io, argv0: after.argv0 }, state);
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
