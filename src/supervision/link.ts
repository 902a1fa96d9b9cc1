import type { ChainState } from './chain.js';
import type { EnvEdit } from '../djb/pathexec.js';
import type { ProgramIo } from './program.js';

/** What one chain-loader is given: its arguments (after argv[0]) and the chain. */
export interface LinkIo {
  /** Basename of the argv[0] this link was started with (for getopt's messages). */
  prog: string;
  state: ChainState;
  stderr(text: string): void;
}

/**
 * A loader's outcome: exit now with a code (after its message), or exec
 * `next` with the environment edits applied (PATH for the search is read
 * before the edits, as 0.76's pathexec does).
 */
export type LinkResult = { exit: number } | { next: string[]; edits?: EnvEdit[] };

export type Link = (args: string[], io: LinkIo) => LinkResult;

/**
 * The chain-loaders one process runs in a row, by name, and fghack's work at
 * any link (`file` is our fghack). programs/loaders.ts is the registry;
 * programs/chain.ts is given it, so that neither the chain nor a loader
 * imports the other.
 */
export interface Loaders {
  links: Readonly<Record<string, Link>>;
  fghack(file: string, argv: string[], state: ChainState, io: ProgramIo): Promise<number>;
}
