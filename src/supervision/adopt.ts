import fs from 'node:fs';
import { processStartTime } from '../posix/index.js';
import { readHistory, type History } from './history.js';
import { readChildRecord } from './sidecar.js';
import { unpackStatus, type Want } from './status.js';
import type { Tai64n } from '../djb/tai64n.js';

/** How often a re-adopted `./run` (not our child: no SIGCHLD, no exit status) is looked for in /proc. */
export const ADOPTED_POLL_MS = 1000;

/** The `./run` a supervisor that died left running, and the state it had announced. */
export interface Predecessor {
  pid: number;
  /** The child's start time in /proc, as `supervise/child` recorded it. */
  start: bigint;
  /** `supervise/history`, when it could be read. */
  history: History | undefined;
  want: Want;
  paused: boolean;
  when: Tai64n;
}

/**
 * The `./run` of a supervisor that died, when `supervise/child` and
 * `supervise/status` (in `dir`) name the same pid and that process still has
 * the recorded start time; undefined otherwise.
 */
export function findPredecessor(dir: string): Predecessor | undefined {
  const rec = readChildRecord(dir);
  if (!rec) return undefined;
  let prior;
  try {
    prior = unpackStatus(fs.readFileSync(`${dir}/status`));
  } catch {
    return undefined;
  }
  if (!prior || prior.pid !== rec.pid || processStartTime(rec.pid) !== rec.start) return undefined;
  return { pid: rec.pid, start: rec.start, history: readHistory(dir), want: prior.want, paused: prior.paused, when: prior.when };
}

/**
 * Watches an adopted `./run` through /proc: it is gone when its pid no
 * longer has the recorded start time (exited, or the pid was reused).
 */
export class AdoptedWatch {
  readonly pid: number;
  private readonly start: bigint;
  private timer: NodeJS.Timeout | undefined;

  constructor(pid: number, start: bigint) {
    this.pid = pid;
    this.start = start;
  }

  /** Polls every ADOPTED_POLL_MS, each poll run by `guard`; `gone` is called once, after the watch stopped. */
  begin(guard: (what: string, fn: () => void) => void, gone: () => void): void {
    this.timer = setInterval(() => guard('watch', () => {
      if (this.timer === undefined || processStartTime(this.pid) === this.start) return;
      this.stop();
      gone();
    }), ADOPTED_POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
