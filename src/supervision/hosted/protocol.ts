import fs from 'node:fs';
import type net from 'node:net';

/**
 * svscan and a log host (one process per log user, see loghosts.ts and
 * loghost.ts) talk over a stream socket that is the host's fd HOST_FD, one
 * JSON object a line. svscan never takes the host's word for anything that
 * touches its own rights: the host can only ask svscan to restart a
 * placeholder of its own user, which that user could do anyway.
 *
 *   svscan -> host  {"op":"attach","id":N,"pid":P,"start":"T","ino":"I","argv":[...],"cwd":"/..."}
 *                   the logger N works for the placeholder P (start time T),
 *                   whose fd 0 is the log pipe (inode I): the host opens
 *                   /proc/P/fd/0 itself, as the log user
 *   svscan -> host  {"op":"stop","id":N,"rotate":bool}   the placeholder died
 *   svscan -> host  {"op":"hold","id":N} / {"op":"go","id":N}   svc -p / svc -c
 *   svscan -> host  {"op":"forget","id":N}               the service is gone
 *   host -> svscan  {"op":"hello","pid":P}               ready, credentials set
 *   host -> svscan  {"op":"failed","id":N}               start-up failed (message printed)
 */
export const HOST_FD = 3;
/** Set (to HOST_FD) in a log host's environment, with the account in HOST_USER_ENV when it must change user. */
export const HOST_ENV = 'DJBPKG_LOGHOST';
export const HOST_USER_ENV = 'DJBPKG_LOGHOST_USER';
/** A line longer than this ends the conversation. */
export const MAX_MESSAGE = 1 << 16;
/** Directories plus `=FILE`s one hosted logger may have; past this its `log/run` runs as its own process. */
export const MAX_HOSTED_FILES = 64;

/** What stays of a hosted logger as supervise's child: sleep(1) for about 68 years, named multilog. */
export const PLACEHOLDER_ARGS = ['2147483647'];
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

export interface Attach {
  op: 'attach';
  id: number;
  pid: number;
  start: string;
  ino: string;
  argv: string[];
  cwd: string;
}

/** Calls `onMessage` with each JSON line read from `socket` (a bad line is skipped; an overlong one ends it). */
export function readLines(socket: net.Socket, onMessage: (m: Record<string, unknown>) => void, onEnd: () => void): void {
  let buf = '';
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  socket.setEncoding('utf8');
  socket.on('data', (s: string) => {
    buf += s;
    if (buf.length > MAX_MESSAGE) {
      socket.destroy();
      end();
      return;
    }
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        continue;
      }
      if (v !== null && typeof v === 'object') onMessage(v as Record<string, unknown>);
    }
  });
  socket.on('end', end);
  socket.on('close', end);
  socket.on('error', end);
}

export function send(socket: net.Socket, m: object): void {
  if (!socket.destroyed && socket.writable) socket.write(JSON.stringify(m) + '\n');
}
