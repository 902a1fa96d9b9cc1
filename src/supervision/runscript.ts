/**
 * Recognises djb's plain exec scripts: `#!/bin/sh` (or `#!/bin/sh -e`),
 * blank lines, comment lines, at most one `exec 2>&1`, then one `exec` line
 * of literal words, then nothing but blank and comment lines. A word is
 * literal when sh would take it as it is written: unquoted characters from a
 * safe set, single-quoted text, and double-quoted text without `$`, backquote,
 * backslash or `"`. Anything else (expansion, globbing, redirection, `;`,
 * `&`, `|`, a continuation line, an assignment before the command) makes the
 * script not plain: undefined, and supervise runs it with sh as before.
 *
 * The one parser of both consumers: supervise's fast path for `./run`
 * (fastpath.ts) and the log host's recogniser for `log/run`
 * (hosted/logscript.ts).
 */
export interface PlainScript {
  /** The words of the exec line, quotes removed. */
  words: string[];
  /** `exec 2>&1` came before the exec line: the program's fd 2 is its fd 1. */
  stderrToStdout: boolean;
}

const SHEBANG = /^#![ \t]*\/bin\/sh([ \t]+-e)?[ \t]*$/;
/** Characters sh takes literally outside quotes, anywhere in a word (`!` alone as the command is refused below). */
const SAFE = /^[A-Za-z0-9_./,:@%+=!-]$/;
const MAX_SCRIPT = 64 * 1024;

/** The words of one line, or undefined if the line is not literal words. */
export function literalWords(line: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    let word = '';
    let quoted = false;
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') {
      const ch = line[i]!;
      if (ch === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) return undefined;
        word += line.slice(i + 1, end);
        quoted = true;
        i = end + 1;
      } else if (ch === '"') {
        const end = line.indexOf('"', i + 1);
        if (end < 0) return undefined;
        const text = line.slice(i + 1, end);
        if (/[$`\\]/.test(text)) return undefined;
        word += text;
        quoted = true;
        i = end + 1;
      } else if (SAFE.test(ch)) {
        word += ch;
        i++;
      } else {
        return undefined;
      }
    }
    if (!quoted && word === '') return undefined;
    words.push(word);
  }
  return words;
}

/** The plain exec script in `text`, or undefined when it is anything else. */
export function parsePlainScript(text: string): PlainScript | undefined {
  if (text.length > MAX_SCRIPT || text.includes('\r') || text.includes('\0')) return undefined;
  const lines = text.split('\n');
  if (!SHEBANG.test(lines[0] ?? '')) return undefined;
  let stderrToStdout = false;
  let words: string[] | undefined;
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (words) return undefined;
    if (/^exec[ \t]+2>&1$/.test(line)) {
      if (stderrToStdout) return undefined;
      stderrToStdout = true;
      continue;
    }
    const w = literalWords(line);
    if (!w || w[0] !== 'exec' || !/^exec[ \t]/.test(line)) return undefined;
    const rest = w.slice(1);
    // `exec NAME=VALUE cmd` would be an assignment; `exec` alone changes nothing.
    if (rest.length === 0 || /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0]!)) return undefined;
    // A first word sh could take as a reserved word or a function is not literal enough.
    if (/^(!|\{|\}|case|do|done|elif|else|esac|fi|for|if|in|then|until|while)$/.test(rest[0]!)) return undefined;
    words = rest;
  }
  return words ? { words, stderrToStdout } : undefined;
}
