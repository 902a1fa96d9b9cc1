import { ourProgram } from '../chain.js';
import { literalWords as plainWords, parsePlainScript } from '../runscript.js';

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
 * That is a plain exec script as supervise's fast path reads `./run` (one
 * parser, runscript.ts): every word literal (plain characters, or text in
 * single quotes, or in double quotes without `$`, `` ` ``, `\` inside).
 * Anything sh would expand or treat specially (`$`, `` ` ``, `;`, `&`, `|`,
 * `<`, `>`, globbing, backslashes, a leading `~` or `#`, assignments) makes
 * the script "not plain": it then runs as an ordinary process, as under C
 * svscan.
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

/** Splits one line into literal words (runscript.ts's rules); null when any part is not literal. */
export function literalWords(line: string): string[] | null {
  return plainWords(line) ?? null;
}

/** Reads `log/run`'s text; null unless it is exactly the hostable shape (a plain exec script, runscript.ts). */
export function parseLogScript(text: string): LogScript | null {
  if (text.length > MAX_LOG_SCRIPT) return null;
  const plain = parsePlainScript(text);
  if (!plain) return null;
  let rest = plain.words;
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
  return { user, multilogArgs: rest.slice(1), setuidgidWord, multilogWord: rest[0]! };
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
