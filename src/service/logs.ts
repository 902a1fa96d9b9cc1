import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { DjbError } from '../core/errors.js';
import { djbpkgCommand } from '../core/hint.js';
import type { Root } from '../core/root.js';
import { LABEL_DIGITS, LocalTimeFormatter } from '../djb/tai64nlocal.js';
import { servicePaths } from './names.js';

/**
 * Reading a service's multilog directory: the archived files (`@….s`,
 * `@….u`, oldest first, as their TAI64N names sort) then `current`, each
 * line's leading TAI64N label shown as local time the way tai64nlocal does.
 */

/** The multilog directory of a service: where its log/main leads, else ROOT/var/multilog/NAME. */
export function logDirOf(root: Root, name: string): string {
  const p = servicePaths(root, name);
  for (const candidate of [path.join(p.definition, 'log', 'main'), p.logDir]) {
    try {
      if (statSync(candidate).isDirectory()) return realpathSync(candidate);
    } catch {
      /* next */
    }
  }
  throw new DjbError('E_NOT_INSTALLED', `service ${name} has no log directory (${root.display(p.logDir)})`, {
    hint: `define it with ${djbpkgCommand(root, ['service', 'add', name], { tail: '-- COMMAND' })}`,
  });
}

const LABEL = new RegExp(`^@([0-9a-f]{${LABEL_DIGITS}})`);

/** A line with its leading label (if any) turned into local time. */
export class HumanTimes {
  private readonly fmt = new LocalTimeFormatter();

  line(text: string): string {
    const m = LABEL.exec(text);
    if (!m) return text;
    const local = this.fmt.format(m[1]!);
    return local === undefined ? text : local + text.slice(m[0].length);
  }
}

function archived(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^@[0-9a-f]{24}\.[su]$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * The last `count` lines of the log (from as many files as it takes, newest
 * last), times made human. An unfinished last line of `current` is included.
 */
export function tailLog(dir: string, count: number): string[] {
  const files = [...archived(dir), path.join(dir, 'current')];
  let lines: string[] = [];
  for (let i = files.length - 1; i >= 0 && lines.length < count; i--) {
    let text: string;
    try {
      text = readFileSync(files[i]!, 'latin1');
    } catch {
      continue;
    }
    lines = [...linesOf(text), ...lines];
  }
  const human = new HumanTimes();
  return lines.slice(Math.max(0, lines.length - count)).map((l) => human.line(Buffer.from(l, 'latin1').toString('utf8')));
}

/** Where `current` ends now: taken before a tail, so that following goes on from there. */
export interface LogPosition {
  ino: number;
  size: number;
}

export function logPosition(dir: string): LogPosition | undefined {
  try {
    const st = statSync(path.join(dir, 'current'));
    return { ino: st.ino, size: st.size };
  } catch {
    return undefined;
  }
}

/**
 * Follows `current` from its present end (or from `from`), through rotations: when multilog
 * renames it away, the rest of the old file is read before the new
 * `current`. Calls `emit` with each complete line; returns when `signal`
 * aborts.
 */
export async function followLog(dir: string, emit: (line: string) => void, signal: AbortSignal, intervalMs = 200, from?: LogPosition): Promise<void> {
  const current = path.join(dir, 'current');
  const human = new HumanTimes();
  const buf = Buffer.alloc(65536);
  let pending = Buffer.alloc(0);
  let fd: number | undefined;
  let ino = -1;
  const open = (atEnd: boolean): void => {
    try {
      fd = openSync(current, 'r');
    } catch {
      fd = undefined;
      return;
    }
    const st = fstatSync(fd);
    // From where the caller's tail read up to (lines written since are not lost), else the end.
    const start = from && atEnd ? (from.ino === st.ino && from.size <= st.size ? from.size : 0) : st.size;
    ino = st.ino;
    offset = atEnd ? start : 0;
  };
  let offset = 0;
  const drain = (): void => {
    if (fd === undefined) return;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) break;
      offset += n;
      pending = Buffer.concat([pending, buf.subarray(0, n)]);
    }
    let nl: number;
    while ((nl = pending.indexOf(0x0a)) >= 0) {
      emit(human.line(pending.subarray(0, nl).toString('utf8')));
      pending = pending.subarray(nl + 1);
    }
  };
  open(true);
  try {
    while (!signal.aborted) {
      drain();
      let now: number | undefined;
      try {
        now = statSync(current).ino;
      } catch {
        now = undefined;
      }
      if (now !== undefined && now !== ino) {
        // Rotated: finish the old file, then read the new current from its start.
        drain();
        if (fd !== undefined) closeSync(fd);
        open(false);
        continue;
      }
      await pause(intervalMs, signal);
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Waits `ms` or until `signal` aborts. The abort listener is removed when the
 * time is up: one added per poll and never removed piled up on the signal
 * (MaxListenersExceededWarning after a few seconds of `logs -f`).
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
