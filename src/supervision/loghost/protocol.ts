import fs from 'node:fs';
import type net from 'node:net';

/**
 * The hand-over between a log service's `multilog` and the svscan that
 * started it. svscan gives `./run` one end of a socket pair as fd
 * HANDOVER_FD and names it in LOGHOST_FD_ENV; multilog, finding it, offers
 * its work (one JSON line each way):
 *
 *   multilog -> svscan  {"hello":1,"pid":P,"argv":[...],"cwd":"/..."}
 *   svscan -> multilog  {"reply":"start"|"resume"|"no"}
 *   multilog -> svscan  {"ready":1}        (after start-up, before exec)
 *
 * `start`: multilog does 0.76's start-up (directories, locks, recovery) as
 * itself, releases `current`, says ready and execs the placeholder; svscan
 * then reads the pipe and writes the logs. `resume`: svscan still holds the
 * state of this very logger (same script, directory and user); multilog only
 * takes the locks. `no`: multilog runs on its own, as always.
 * svscan never takes the message's word for who is asking: the pid must be
 * the child it started, and the user is read from /proc/PID/status.
 */
export const LOGHOST_FD_ENV = 'DJBPKG_LOGHOST_FD';
export const HANDOVER_FD = 3;
/** A hand-over line longer than this is refused. */
export const MAX_MESSAGE = 1 << 16;
/** How long either side waits for the other before giving up. */
export const HANDOVER_TIMEOUT_MS = 30_000;

/** What stays of a hosted logger: sleep(1) for about 68 years, holding the pipe's read end and the locks. */
export const PLACEHOLDER_ARGS = ['2147483647'];
/** argv[0] of the placeholder, so that ps shows whose it is. */
export const PLACEHOLDER_ARGV0 = 'multilog';

let placeholder: string | null | undefined;
/** The placeholder program (a sleep(1) by absolute path), or undefined when none is installed. */
export function placeholderPath(): string | undefined {
  if (placeholder === undefined) {
    placeholder = null;
    for (const p of ['/bin/sleep', '/usr/bin/sleep']) {
      try {
        fs.accessSync(p, fs.constants.X_OK);
        placeholder = p;
        break;
      } catch {
        // try the next
      }
    }
  }
  return placeholder ?? undefined;
}

export interface Hello {
  hello: 1;
  pid: number;
  argv: string[];
  cwd: string;
}
export type ReplyKind = 'start' | 'resume' | 'no';

/** Reads JSON lines from a socket; resolves `next()` with each, or undefined at end, error, overflow or timeout. */
export class LineChannel {
  private buf = '';
  private readonly queue: unknown[] = [];
  private waiter: ((v: unknown) => void) | undefined;
  private ended = false;

  constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (s: string) => {
      this.buf += s;
      if (this.buf.length > MAX_MESSAGE) {
        this.buf = '';
        this.end();
        socket.destroy();
        return;
      }
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          v = undefined;
        }
        this.push(v);
      }
    });
    socket.on('end', () => this.end());
    socket.on('close', () => this.end());
    socket.on('error', () => this.end());
  }

  private push(v: unknown): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(v);
    } else this.queue.push(v);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.push(undefined);
  }

  next(timeoutMs = HANDOVER_TIMEOUT_MS): Promise<unknown> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      t.unref();
      this.waiter = (v) => {
        clearTimeout(t);
        resolve(v);
      };
    });
  }

  send(v: unknown): void {
    if (!this.socket.destroyed) this.socket.write(JSON.stringify(v) + '\n');
  }
}
