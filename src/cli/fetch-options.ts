import path from 'node:path';
import type { Io } from '../core/io.js';
import type { FetchOptions } from '../install/fetch.js';
import { warn } from './render.js';

/** The global options of djbpkg as yargs hands them to every verb. */
export interface GlobalArgs {
  root: string;
  recipes?: string[];
  distfiles?: string;
  mirror?: string[];
  offline: boolean;
  json: boolean;
  verbose: boolean;
}

/** `--recipes` directories, searched before the bundled ones. */
export function extraRecipeDirs(args: GlobalArgs): string[] {
  return (args.recipes ?? []).map((d) => path.resolve(d));
}

/** `--distfiles`, else ROOT/usr/local/djb/dist. */
export function distfilesDir(args: GlobalArgs, io: Io): string {
  return args.distfiles ? path.resolve(args.distfiles) : io.root.defaultDistfiles;
}

/**
 * FetchOptions from the global options: each failed source becomes a warning
 * line on stderr; the progress bar goes to stderr only without --json (fetch
 * itself draws it only on a terminal).
 */
export function fetchOptions(args: GlobalArgs, io: Io): FetchOptions {
  return {
    distfiles: distfilesDir(args, io),
    mirrors: args.mirror ?? [],
    offline: args.offline,
    env: io.env,
    progress: args.json ? undefined : io.stderr,
    log: (line) => warn(io.stderr, line),
    now: () => io.now(),
  };
}
