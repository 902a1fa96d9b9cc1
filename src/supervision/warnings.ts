import fs from 'node:fs';
import net from 'node:net';
import { O_CLOEXEC, pipe2 } from '../posix/index.js';
import { writeAtomically } from './history.js';
import { formatTai64n, tai64nNow } from '../djb/tai64n.js';

/**
 * `supervise/warnings`: the last WARNING_LINES lines a logger printed on its
 * stderr (multilog's `unable to lock directory`, and the like), each as
 * `@TAI64N text`, oldest first. Only supervise writes it, in its own
 * supervise directory (root's, mode 0700), by write-then-rename; it never
 * opens a path the log user can change. `djbpkg service logs` prints it.
 */
export const WARNINGS_FILE = 'warnings';
export const WARNING_LINES = 20;
/** Longer lines are cut here. */
export const WARNING_LINE_MAX = 400;
/** A line not ended after this many bytes is recorded as it is. */
const PARTIAL_MAX = 4096;
/** The tee rewrites the file at most once in this time; lines in between wait (the last WARNING_LINES of them). */
export const RECORD_INTERVAL_MS = 250;

/** The recorded lines (`@TAI64N text`), oldest first; [] when none. */
export function readWarnings(superviseDir: string): string[] {
  let fd: number;
  try {
    fd = fs.openSync(`${superviseDir}/${WARNINGS_FILE}`, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return [];
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return [];
    return fs.readFileSync(fd, 'utf8').split('\n').filter(Boolean).slice(-WARNING_LINES);
  } catch {
    return [];
  } finally {
    fs.closeSync(fd);
  }
}

function clean(line: string): string {
  // Control characters could rewrite a terminal that prints the file: shown as '?'.
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?').slice(0, WARNING_LINE_MAX);
}

/**
 * Adds the lines of `text` (empty ones skipped) to `superviseDir/warnings`,
 * keeping the last WARNING_LINES, at once. For a source that may print
 * many lines (a logger's stderr, svscan's hosted loggers) use
 * WarningRecorder, which writes at most a few times a second. Throws on
 * failure (the caller drops or reports it).
 */
export function recordWarning(superviseDir: string, text: string, nowMs: number = Date.now()): void {
  appendLabelled(superviseDir, labelled(text, nowMs));
}

/** The non-empty lines of `text`, cleaned, each as `@TAI64N line`. */
function labelled(text: string, nowMs: number): string[] {
  const label = formatTai64n(tai64nNow(nowMs));
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => `${label} ${clean(l)}`);
}

function appendLabelled(superviseDir: string, fresh: string[]): void {
  if (fresh.length === 0) return;
  const kept = [...readWarnings(superviseDir), ...fresh].slice(-WARNING_LINES);
  writeAtomically(superviseDir, WARNINGS_FILE, kept.join('\n') + '\n');
}

/**
 * recordWarning for a source that may print a lot: lines are labelled when
 * they arrive and written at once when the file was not written in the
 * last RECORD_INTERVAL_MS, else when that time is up (only the last
 * WARNING_LINES wait). A logger that floods its stderr so costs supervise
 * at most a few writes a second. Used by the stderr tee and by svscan for
 * its hosted loggers.
 */
export class WarningRecorder {
  private queued: string[] = [];
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly superviseDir: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(text: string): void {
    const lines = labelled(text, Date.now());
    if (lines.length === 0) return;
    this.queued = [...this.queued, ...lines].slice(-WARNING_LINES);
    const wait = this.lastWrite + RECORD_INTERVAL_MS - Date.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queued.length === 0) return;
    const lines = this.queued;
    this.queued = [];
    this.lastWrite = Date.now();
    try {
      appendLabelled(this.superviseDir, lines);
    } catch (err) {
      this.onError(err);
    }
  }
}

/**
 * Writes `bytes` to descriptor `fd` without ever blocking: through a new
 * non-blocking open of `/proc/self/fd/FD` (a pipe to readproctitle, a file,
 * a terminal), else straight to fd. What does not fit (EAGAIN) is dropped.
 */
export function forwardNonBlocking(fd: number, bytes: Uint8Array): void {
  const { O_WRONLY, O_NONBLOCK, O_APPEND, O_NOCTTY } = fs.constants;
  let own: number | undefined;
  try {
    own = fs.openSync(`/proc/self/fd/${fd}`, O_WRONLY | O_NONBLOCK | O_APPEND | O_NOCTTY);
  } catch {
    own = undefined;
  }
  try {
    let off = 0;
    while (off < bytes.length) {
      const n = fs.writeSync(own ?? fd, bytes, off, bytes.length - off);
      if (n <= 0) break;
      off += n;
    }
  } catch {
    // EAGAIN (full), EPIPE (reader gone): dropped, supervision goes on.
  } finally {
    if (own !== undefined) fs.closeSync(own);
  }
}

/**
 * The stderr of one run of a logger: `writeFd` is the child's fd 2 (the
 * caller closes it after spawning); what arrives is passed on to `forwardFd`
 * (where the logger's stderr would have gone: svscan's, to readproctitle)
 * and recorded, line by line, in `superviseDir/warnings`. Ends by itself
 * when every writer has closed the pipe.
 */
export class StderrTee {
  readonly writeFd: number;
  private socket: net.Socket | undefined;
  private partial = '';
  private readonly recorder: WarningRecorder;

  /** `readFd`: the read end of an existing pipe to take over (then writeFd is -1); default a new pipe. */
  constructor(
    superviseDir: string,
    private readonly forwardFd: number,
    onError: (err: unknown) => void,
    readFd?: number,
  ) {
    this.recorder = new WarningRecorder(superviseDir, onError);
    const [r, w] = readFd === undefined ? pipe2(O_CLOEXEC) : [readFd, -1];
    this.writeFd = w;
    try {
      this.socket = new net.Socket({ fd: r, readable: true, writable: false });
    } catch (err) {
      fs.closeSync(r);
      if (w >= 0) fs.closeSync(w);
      throw err;
    }
    this.socket.on('error', () => this.close());
    this.socket.on('end', () => this.close());
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    forwardNonBlocking(this.forwardFd, chunk);
    const text = this.partial + chunk.toString('utf8');
    const nl = text.lastIndexOf('\n');
    let complete = '';
    if (nl >= 0) {
      complete = text.slice(0, nl);
      this.partial = text.slice(nl + 1);
    } else this.partial = text;
    if (this.partial.length > PARTIAL_MAX) {
      complete += '\n' + this.partial;
      this.partial = '';
    }
    this.recorder.add(complete);
  }

  closeWriteEnd(): void {
    if (this.writeFd < 0) return;
    try {
      fs.closeSync(this.writeFd);
    } catch {
      // Already closed.
    }
  }

  close(): void {
    if (this.partial) this.recorder.add(this.partial);
    this.partial = '';
    this.recorder.flush();
    this.socket?.destroy();
    this.socket = undefined;
  }
}

/**
 * The stderr pipe of a logger's run left by a supervise that died (svscan
 * restarted), opened again through /proc/PID/fd/2 so that its warnings are
 * still read (and the logger never writes into a pipe nobody reads).
 * undefined when its fd 2 is not a pipe or cannot be opened.
 */
export function reopenStderrPipe(pid: number): number | undefined {
  const link = `/proc/${pid}/fd/2`;
  try {
    if (!fs.statSync(link).isFIFO()) return undefined;
    return fs.openSync(link, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}
