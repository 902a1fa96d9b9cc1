/**
 * A multilog script, read as 0.76 reads it: one action per word, classified
 * by its first character; `s`, `n` and `!` set defaults for the directories
 * that follow them.
 */

export const DEFAULT_SIZE = 99999;
export const MIN_SIZE = 4096;
export const MAX_SIZE = 16777215;
export const DEFAULT_NUM = 10;
export const MIN_NUM = 2;

export interface DirSpec {
  /** The word as written (used in every message). */
  name: string;
  size: number;
  num: number;
  processor: string | undefined;
}

export type Action =
  | { kind: 'select'; pattern: Uint8Array }
  | { kind: 'deselect'; pattern: Uint8Array }
  | { kind: 'stderr' }
  | { kind: 'status'; file: string }
  | { kind: 'dir'; index: number };

export interface Script {
  timestamp: boolean;
  /** Per-line actions in script order. */
  actions: Action[];
  dirs: DirSpec[];
}

/** djb's scan_ulong: leading decimal digits, 0 when there are none. */
export function scanUlong(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    if (n > Number.MAX_SAFE_INTEGER / 10) n = Number.MAX_SAFE_INTEGER;
  }
  return n;
}

export function parseScript(words: readonly string[]): Script {
  const actions: Action[] = [];
  const dirs: DirSpec[] = [];
  let size = DEFAULT_SIZE;
  let num = DEFAULT_NUM;
  let processor: string | undefined;
  for (const word of words) {
    const rest = word.slice(1);
    switch (word[0]) {
      case 's':
        size = Math.min(MAX_SIZE, Math.max(MIN_SIZE, scanUlong(rest)));
        break;
      case 'n':
        num = Math.max(MIN_NUM, scanUlong(rest));
        break;
      case '!':
        processor = rest;
        break;
      case '.':
      case '/':
        actions.push({ kind: 'dir', index: dirs.length });
        dirs.push({ name: word, size, num, processor });
        break;
      case '+':
        actions.push({ kind: 'select', pattern: Buffer.from(rest) });
        break;
      case '-':
        actions.push({ kind: 'deselect', pattern: Buffer.from(rest) });
        break;
      case 'e':
        actions.push({ kind: 'stderr' });
        break;
      case '=':
        actions.push({ kind: 'status', file: rest });
        break;
      default:
        break;
    }
  }
  return { timestamp: words.length > 0 && words[0]!.startsWith('t'), actions, dirs };
}
