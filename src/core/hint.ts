import path from 'node:path';
import type { Root } from './root.js';
import { shellQuote } from './root.js';

/**
 * Hints are commands the admin pastes. Each word is quoted for a POSIX shell,
 * and the command carries the options that chose where it acts: `--root`
 * whenever ROOT is not `/` (pasted without it, it would act on the real
 * system), and `--recipes`/`--distfiles` where the suggested verb reads them.
 */

interface HintOptions {
  recipes: readonly string[];
  distfiles: string | undefined;
}

let given: HintOptions = { recipes: [], distfiles: undefined };

/** Called once per run with the global options as given on the command line. */
export function setHintOptions(o: { recipes?: readonly string[]; distfiles?: string }): void {
  given = {
    recipes: (o.recipes ?? []).map((d) => path.resolve(String(d))),
    distfiles: o.distfiles === undefined || o.distfiles === '' ? undefined : path.resolve(String(o.distfiles)),
  };
}

export interface CommandHintOptions {
  /** Carry `--recipes` (verbs that read recipes: install, fetch, verify, info). */
  recipes?: boolean;
  /** Carry `--distfiles` (verbs that read the cache: install, fetch, verify). */
  distfiles?: boolean;
  /** Placeholder words appended as they are, e.g. `-- COMMAND`. */
  tail?: string;
}

/** `djbpkg WORDS... [--root ROOT] [--recipes DIR]... [--distfiles DIR] [tail]`, every word quoted. */
export function djbpkgCommand(root: Root, words: readonly string[], opts: CommandHintOptions = {}): string {
  const parts = ['djbpkg', ...words.map(shellQuote)];
  if (!root.isSystemRoot) parts.push('--root', shellQuote(root.dir));
  if (opts.recipes) for (const r of given.recipes) parts.push('--recipes', shellQuote(r));
  if (opts.distfiles && given.distfiles !== undefined) parts.push('--distfiles', shellQuote(given.distfiles));
  if (opts.tail) parts.push(opts.tail);
  return parts.join(' ');
}

/** Options for a verb that reads recipes and the cache. */
export const PACKAGE_VERB: CommandHintOptions = { recipes: true, distfiles: true };
