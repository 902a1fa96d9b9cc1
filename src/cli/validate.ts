import { statSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { DjbError, describeCause } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { djbpkgCommand } from '../core/hint.js';
import { BOOT_MODES } from '../boot/boot.js';
import { BUILDS } from '../install/build.js';
import { lockAndRecover } from '../installed/lock.js';
import { txnDir } from '../installed/txn.js';
import { info, warn } from './render.js';

/** The raw `--root` word(s) of argv, as the shell passed them. */
export function rootWords(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--root') out.push(argv[i + 1] ?? '');
    else if (a.startsWith('--root=')) out.push(a.slice(7));
  }
  return out;
}

/**
 * Refuses a root that would put the system at risk before anything runs: an
 * empty `--root` (an unset shell variable) must not fall back to `/`, and a
 * flag after `--root` is a forgotten value, not a directory; a root that
 * exists must be a directory.
 */
export function checkRootArg(argv: readonly string[], io: Io): void {
  const words = rootWords(argv);
  if (words.length === 0 && io.env.DJBPKG_ROOT === '') {
    throw new DjbError('E_USAGE', 'DJBPKG_ROOT is set but empty', { hint: 'unset it for /, or set it to a directory' });
  }
  for (const w of words) {
    if (w === '') throw new DjbError('E_USAGE', '--root is empty', { hint: 'name a directory (an unset shell variable gives an empty --root); --root / for the system itself' });
    if (w.startsWith('-')) throw new DjbError('E_USAGE', `--root is followed by the option ${w}, not a directory`, { hint: 'give --root a directory: --root DIR' });
  }
  const dir = io.root.dir;
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new DjbError('E_USAGE', `--root ${dir}: not a directory (ENOTDIR)`);
    throw new DjbError('E_IO', `unable to stat root ${dir}: ${describeCause(err)}`, { cause: err });
  }
  if (!st.isDirectory()) throw new DjbError('E_USAGE', `--root ${dir}: not a directory`, { hint: 'name a directory to install into' });
}

/** `--mirror` values: absolute http or https URLs, checked before any work. */
export function checkMirrors(values: string[]): string[] {
  for (const v of values) {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new DjbError('E_USAGE', `--mirror ${JSON.stringify(v)}: not a URL`, { hint: 'give a base URL such as http://mirror.example/djb' });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new DjbError('E_USAGE', `--mirror ${v}: only http and https URLs are fetched (not ${u.protocol.replace(/:$/, '')})`, { hint: 'give a base URL such as http://mirror.example/djb' });
    }
  }
  return values;
}

/** `--recipes` values: directories that exist. */
export function checkRecipeDirs(values: string[]): string[] {
  for (const v of values) {
    let st;
    try {
      st = statSync(v);
    } catch (err) {
      throw new DjbError('E_USAGE', `--recipes ${v}: ${describeCause(err)}`, { hint: 'name a directory of recipes (NAME.json files)' });
    }
    if (!st.isDirectory()) throw new DjbError('E_USAGE', `--recipes ${v}: not a directory`, { hint: 'name a directory of recipes (NAME.json files)' });
  }
  return values;
}

/** A number of seconds: finite and not negative. */
export function checkSeconds(option: string): (v: unknown) => number {
  return (v) => {
    const n = typeof v === 'number' ? v : Number(v);
    if (Array.isArray(v) || !Number.isFinite(n) || n < 0) {
      throw new DjbError('E_USAGE', `--${option} ${Array.isArray(v) ? v.join(' ') : String(v)}: not a number of seconds`, { hint: `e.g. --${option} 30` });
    }
    return n;
  };
}

/** One of `choices`, else one line naming them. */
export function checkChoice(option: string, choices: readonly string[]): (v: unknown) => string {
  return (v) => {
    const s = String(Array.isArray(v) ? v.at(-1) : v);
    if (!choices.includes(s)) {
      const near = nearest(s, choices);
      throw new DjbError('E_USAGE', `--${option} ${s}: not one of ${choices.join(', ')}`, { hint: near ? `did you mean --${option} ${near}?` : `use one of ${choices.join(', ')}` });
    }
    return s;
  };
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate closest to `word` (a prefix, or within a third of its length in edits), if any. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const prefix = candidates.filter((c) => c.startsWith(w) && w.length >= 2);
  if (prefix.length === 1) return prefix[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(w, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= Math.max(2, Math.floor(w.length / 3)) ? best : undefined;
}

/** Verbs that change the root take the lock and recover themselves (waiting for it). */
const SELF_RECOVERING = new Set(['install', 'remove']);

/**
 * Before any verb: if a killed install or remove left its journal, recover it
 * now (when no live djbpkg holds the lock). A verb that only reads goes on
 * with a warning when recovery is not possible (a read-only root, no rights).
 */
export async function recoverFirst(io: Io, verb: string | undefined): Promise<void> {
  if (verb === undefined || SELF_RECOVERING.has(verb)) return;
  try {
    await lstat(txnDir(io.root));
  } catch {
    return;
  }
  try {
    const lock = await lockAndRecover(io.root, 0, () => io.now(), (line) => info(io.stderr, line));
    lock.release();
  } catch (err) {
    if (err instanceof DjbError && err.code === 'E_LOCKED') return;
    warn(io.stderr, `an interrupted transaction is pending in ${txnDir(io.root)} and was not recovered: ${err instanceof Error ? err.message : String(err)}`);
    warn(io.stderr, `run ${djbpkgCommand(io.root, ['doctor'])} as a user who may write there`);
  }
}


/** Choices of options, checked in checkArgs (one line and a hint, not yargs' list). */
const CHOICES: Record<string, readonly string[]> = { build: BUILDS, boot: BOOT_MODES };
const SECONDS = ['lock-wait', 'kill-after'];

/**
 * Every option value checked before any work: `--recipes` directories exist,
 * `--mirror`s are http/https URLs, seconds are numbers, choices are known.
 */
export function checkArgs(args: Record<string, unknown>): void {
  if (args.recipes !== undefined) checkRecipeDirs(args.recipes as string[]);
  if (args.mirror !== undefined) checkMirrors(args.mirror as string[]);
  for (const o of SECONDS) if (args[o] !== undefined) args[o] = checkSeconds(o)(args[o]);
  for (const [o, choices] of Object.entries(CHOICES)) if (args[o] !== undefined) args[o] = checkChoice(o, choices)(args[o]);
}

/** Global options that take a value (the word after them is not the verb). */
const VALUED = new Set(['--root', '--recipes', '--distfiles', '--mirror']);

/** An unknown verb is one line that names the nearest known one. */
export function checkVerb(argv: readonly string[], verbs: readonly string[]): void {
  // Shell completion asks yargs with the words typed so far: not a command line.
  if (argv.includes('--get-yargs-completions')) return;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUED.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    if (verbs.includes(a)) return;
    const near = nearest(a, verbs);
    throw new DjbError('E_USAGE', `unknown command: ${a}`, { hint: near ? `did you mean djbpkg ${near}? (djbpkg --help lists the commands)` : 'djbpkg --help lists the commands' });
  }
}
