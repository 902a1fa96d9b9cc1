import fs from 'node:fs';

/**
 * `supervise/history`: what supervise remembers of the runs of `./run` since
 * it started, beside the 18-byte `status` (which stays exactly 0.76's).
 * Text, one `key value` a line, times in Unix milliseconds (0 = never):
 *
 *     since 1765050000000        supervise started
 *     runs 12                    runs of ./run started since then
 *     started 1765050011000      start of the current (or last) run
 *     exited 1765050010990       end of the last run that ended
 *     exit code 1                how it ended: `code N`, `signal NAME`, `unknown` (adopted), `none`
 *     lasted 12                  length of that run, in milliseconds
 *     short 1765050008990 ...    ends of the recent runs that lasted under SHORT_RUN_MS
 *     readyfd 3                  notification-fd of the current run (0: none declared)
 *     ready 1765050011500        when the current run wrote its readiness line (0: not yet)
 *
 * Written by supervise to `history.new` in its own supervise directory
 * (root's, mode 0700), then renamed: a reader sees the old or the new file,
 * never half of one. C supervise neither reads nor writes it.
 */
export const HISTORY_FILE = 'history';

/** A run shorter than this counts towards a crash loop. */
export const SHORT_RUN_MS = 5000;
/** Short runs older than this are forgotten. */
export const LOOP_WINDOW_MS = 60_000;
/** This many short runs within the window make a crash loop. */
export const LOOP_RUNS = 3;
/** At most this many short-run times are kept. */
const SHORT_KEEP = 10;

export interface History {
  since: number;
  runs: number;
  started: number;
  exited: number;
  /** `code N`, `signal NAME`, `unknown` or `none`. */
  exit: string;
  lasted: number;
  short: number[];
  readyFd: number;
  ready: number;
}

export function emptyHistory(now: number): History {
  return { since: now, runs: 0, started: 0, exited: 0, exit: 'none', lasted: 0, short: [], readyFd: 0, ready: 0 };
}

export function packHistory(h: History): string {
  return [
    `since ${h.since}`,
    `runs ${h.runs}`,
    `started ${h.started}`,
    `exited ${h.exited}`,
    `exit ${h.exit}`,
    `lasted ${h.lasted}`,
    `short ${h.short.join(' ')}`.trimEnd(),
    `readyfd ${h.readyFd}`,
    `ready ${h.ready}`,
    '',
  ].join('\n');
}

function num(v: string | undefined): number {
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
}

/** Parses a history file; undefined when it is not one (no `since` and `runs`). */
export function unpackHistory(text: string): History | undefined {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) kv.set(line.slice(0, sp), line.slice(sp + 1));
    else if (line) kv.set(line, '');
  }
  if (!kv.has('since') || !kv.has('runs')) return undefined;
  return {
    since: num(kv.get('since')),
    runs: num(kv.get('runs')),
    started: num(kv.get('started')),
    exited: num(kv.get('exited')),
    exit: /^(code \d+|signal [A-Z0-9]+|unknown|none)$/.test(kv.get('exit') ?? '') ? kv.get('exit')! : 'none',
    lasted: num(kv.get('lasted')),
    short: (kv.get('short') ?? '').split(' ').filter(Boolean).map(num).filter((t) => t > 0),
    readyFd: num(kv.get('readyfd')),
    ready: num(kv.get('ready')),
  };
}

/** The history in `superviseDir/history`, or undefined when absent or unreadable (C supervise writes none). */
export function readHistory(superviseDir: string): History | undefined {
  try {
    return unpackHistory(fs.readFileSync(`${superviseDir}/${HISTORY_FILE}`, 'latin1'));
  } catch {
    return undefined;
  }
}

/**
 * Writes `text` to `dir/name` atomically: `name.new` (whatever was there is
 * removed first, a link is never followed), then renamed over `name`.
 * Throws on failure.
 */
export function writeAtomically(dir: string, name: string, text: string): void {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  const tmp = `${dir}/${name}.new`;
  try {
    fs.unlinkSync(tmp);
  } catch {
    // Usually absent; if it cannot be removed, the exclusive open below says why.
  }
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, 0o644);
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, `${dir}/${name}`);
}

export function writeHistory(superviseDir: string, h: History): void {
  writeAtomically(superviseDir, HISTORY_FILE, packHistory(h));
}

/** A run started at `now` (readiness fd `readyFd`, 0 when none). */
export function noteStart(h: History, now: number, readyFd: number): void {
  h.runs += 1;
  h.started = now;
  h.ready = 0;
  h.readyFd = readyFd;
}

/** The current run ended at `now`, as `exit` says. */
export function noteExit(h: History, now: number, exit: string): void {
  h.exited = now;
  h.exit = exit;
  h.lasted = h.started > 0 ? Math.max(0, now - h.started) : 0;
  const short = h.started > 0 && h.lasted < SHORT_RUN_MS ? [...h.short, now] : h.short;
  h.short = short.filter((t) => now - t < LOOP_WINDOW_MS).slice(-SHORT_KEEP);
  h.ready = 0;
}

/**
 * The crash-loop rule: at least LOOP_RUNS runs that lasted under
 * SHORT_RUN_MS ended within the last LOOP_WINDOW_MS, and no run has been
 * up for SHORT_RUN_MS since the last of them (`upSince` is the start of the
 * current run, 0 when none runs). A program that exits at once, restarted
 * every second, is always in a loop after its third exit; one that stays up
 * is `up` again SHORT_RUN_MS after its last start.
 */
export function crashLooping(h: History, now: number, upSince: number): boolean {
  const recent = h.short.filter((t) => now - t < LOOP_WINDOW_MS);
  if (recent.length < LOOP_RUNS) return false;
  return upSince === 0 || now - upSince < SHORT_RUN_MS;
}
