import { errstr } from '../../djb/errstr.js';
import { StampClock } from './stamp.js';

/** multilog's fixed pause after a runtime error (0.76: 5 seconds). */
export const DEFAULT_PAUSE_MS = 5000;
/** Test-only override of the pause, in milliseconds. */
export const PAUSE_ENV = 'DJBPKG_MULTILOG_PAUSE_MS';

/** A startup failure: multilog prints `multilog: fatal: TEXT` and exits 111. */
export class MultilogFatal extends Error {}

/** What the log directories need from their process: messages, pauses, a clock. */
export class Runtime {
  readonly clock = new StampClock();
  private readonly fileStamp = new StampClock();
  private lastFileMicros = -1;

  constructor(
    private readonly stderr: (text: string) => void,
    readonly pauseMs: number,
  ) {}

  static pauseFromEnv(env: NodeJS.ProcessEnv): number {
    const v = env[PAUSE_ENV];
    if (v !== undefined && /^\d+$/.test(v)) return Number(v);
    return DEFAULT_PAUSE_MS;
  }

  warnRaw(text: string): void {
    this.stderr(`multilog: warning: ${text}\n`);
  }

  /** What 0.76's forked processor child prints before exiting 111. */
  fatalFromChild(text: string): void {
    this.stderr(`multilog: fatal: ${text}\n`);
  }

  /**
   * `multilog: warning: WHAT, pausing: ERR`, then the pause. The pause is a
   * timer: only the logger that met the error waits (it reads no input
   * meanwhile), never the process it lives in.
   */
  pause(what: string, err: unknown): Promise<void> {
    this.warnRaw(`${what}, pausing: ${errstr(err)}`);
    return this.sleep();
  }

  sleep(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.pauseMs));
  }

  /**
   * Name for an archived file: `@` + TAI64N(now) + `.` + code. Strictly
   * increasing within the process, so two rotations in one microsecond
   * cannot collide.
   */
  archiveName(code: string): string {
    let us = this.clock.nowMicros();
    if (us <= this.lastFileMicros) us = this.lastFileMicros + 1;
    this.lastFileMicros = us;
    return this.fileStamp.set(us).toString('latin1') + '.' + code;
  }
}
