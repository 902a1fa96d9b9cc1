import { ourProgram } from '../chain.js';

/**
 * The one shape of `log/run` svscan hosts: a script whose effect it can know
 * without running it, so that the log user comes from what svscan itself
 * does (the `setuidgid` it performs), never from watching a process.
 *
 *   #!/bin/sh            (or `#!/bin/sh -e`)
 *   # comments, blank lines
 *   exec 2>&1            (optional, before the last line)
 *   exec [setuidgid USER] multilog ARGS...
 *   # comments, blank lines
 *
 * Every word is literal: plain characters, or text in single quotes, or in
 * double quotes without `$`, `` ` ``, `\` inside. Anything sh would expand
 * or treat specially (`$`, `` ` ``, `;`, `&`, `|`, `<`, `>`, globbing,
 * backslashes, a leading `~` or `#`, assignments) makes the script "not
 * plain": it then runs as an ordinary process, as under C svscan.
 */
export interface LogScript {
  /** The account named to `setuidgid`, or undefined when the script does not change user. */
  user: string | undefined;
  /** multilog's arguments (its script). */
  multilogArgs: string[];
  /** The command words as written (`setuidgid` and `multilog`, or paths to them). */
  setuidgidWord: string | undefined;
  multilogWord: string;
}

/** The hostable script with its commands found, as svscan would run them. */
export interface ResolvedLogScript extends LogScript {
  /** The files `sh` would run for `setuidgid` and `multilog`. */
  setuidgidPath: string | undefined;
  multilogPath: string;
}

/** Longest `log/run` looked at (a hostable one is a few lines). */
export const MAX_LOG_SCRIPT = 8192;

const SHEBANG = /^#!\/bin\/sh(?:[ \t]+-e)?[ \t]*$/;
/** Characters a word may hold outside quotes. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./!-]$/;

/** Splits one line into literal words; null when any part is not literal. */
export function literalWords(line: string): string[] | null {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
      continue;
    }
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return null;
      word = (word ?? '') + line.slice(i + 1, close);
      i = close + 1;
      continue;
    }
    if (c === '"') {
      const close = line.indexOf('"', i + 1);
      if (close < 0) return null;
      const inner = line.slice(i + 1, close);
      if (/[$`\\]/.test(inner)) return null;
      word = (word ?? '') + inner;
      i = close + 1;
      continue;
    }
    if (!PLAIN.test(c)) return null;
    // `#` starts a comment and `~` expands only at the start of a word; neither is in PLAIN at all.
    word = (word ?? '') + c;
    i++;
  }
  if (word !== undefined) words.push(word);
  return words;
}

function isNoise(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

/** Reads `log/run`'s text; null unless it is exactly the hostable shape. */
export function parseLogScript(text: string): LogScript | null {
  if (text.length > MAX_LOG_SCRIPT || text.includes('\0')) return null;
  const lines = text.split('\n');
  if (!SHEBANG.test(lines[0] ?? '')) return null;
  let seenRedirect = false;
  let found: LogScript | undefined;
  for (const line of lines.slice(1)) {
    if (isNoise(line)) continue;
    if (found) return null;
    if (!seenRedirect && /^[ \t]*exec[ \t]+2>&1[ \t]*$/.test(line)) {
      seenRedirect = true;
      continue;
    }
    // A line continued with a backslash, or a carriage return, is not plain.
    const words = literalWords(line);
    if (!words || words[0] !== 'exec') return null;
    if (words.length === 1) return null;
    let rest = words.slice(1);
    let user: string | undefined;
    let setuidgidWord: string | undefined;
    if (baseName(rest[0]!) === 'setuidgid') {
      if (rest.length < 3) return null;
      setuidgidWord = rest[0];
      user = rest[1]!;
      if (user === '' || user.startsWith('-')) return null;
      rest = rest.slice(2);
    }
    if (baseName(rest[0]!) !== 'multilog') return null;
    found = { user, multilogArgs: rest.slice(1), setuidgidWord, multilogWord: rest[0]! };
  }
  return found ?? null;
}

function baseName(word: string): string {
  const slash = word.lastIndexOf('/');
  return slash < 0 ? word : word.slice(slash + 1);
}

/**
 * Finds the commands as `sh` would on `searchPath` and checks that they are
 * ours, the very runtime in `ourDir` (svscan's own directory): null when
 * either is something else (then the script runs as written).
 */
export function resolveLogScript(script: LogScript, searchPath: string | undefined, ourDir: string | undefined): ResolvedLogScript | null {
  const multilog = ourProgram([script.multilogWord], searchPath, ourDir, new Set(['multilog']));
  if (!multilog || multilog.name !== 'multilog') return null;
  let setuidgidPath: string | undefined;
  if (script.setuidgidWord !== undefined) {
    const s = ourProgram([script.setuidgidWord], searchPath, ourDir, new Set(['setuidgid']));
    if (!s || s.name !== 'setuidgid') return null;
    setuidgidPath = s.file;
  }
  return { ...script, setuidgidPath, multilogPath: multilog.file };
}
