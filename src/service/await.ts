import path from 'node:path';
import { DjbError } from '../core/errors.js';
import { LOOP_RUNS, readHistory } from '../supervision/history.js';
import { readState } from './supervise.js';
import type { SuperviseState } from './supervise.js';

/** How long a run without readiness must stay up to count as started. */
export const STAY_UP_MS = 1000;
/** The same under C supervise, which shows a dead run's pid for its whole 1-second pause. */
export const STAY_UP_C_MS = 2000;
const POLL_MS = 100;

export interface AwaitGoal {
  name: string;
  /** The directory supervise runs in. */
  dir: string;
  seconds: number;
  /** The state the verb asked for (e.g. a new pid after a restart); until then nothing else is judged. */
  reached(s: SuperviseState): boolean;
  /** Whether, once reached, the service must also be up (false: a normally-down service just enabled). */
  mustRun(s: SuperviseState): boolean;
  /** Hint for the timeout line. */
  hint?: string;
}

function fail(message: string, hint?: string): DjbError {
  return new DjbError('E_UNHEALTHY', message, { temporary: true, hint });
}

/**
 * `--wait` of start, restart and enable: until the service is ready (when
 * it declares notification-fd and supervise keeps a history) or else up
 * with the same pid for STAY_UP_MS. Fails at once when LOOP_RUNS runs ended
 * within 5 s of their start since the wait began (a crash loop), and at the
 * deadline with the reason: never up, never ready, or never stayed up.
 */
export async function awaitService(goal: AwaitGoal): Promise<SuperviseState> {
  const begin = Date.now();
  const end = begin + goal.seconds * 1000;
  const superviseDir = path.join(goal.dir, 'supervise');
  let seenPid = 0;
  let seenAt = 0;
  let pids = 0;
  let reason = `did not come up within ${goal.seconds} seconds`;
  for (;;) {
    const s = readState(goal.dir);
    const h = s.supervised ? readHistory(superviseDir) : undefined;
    const now = Date.now();
    if (h) {
      const loops = h.short.filter((t) => t >= begin).length;
      if (loops >= LOOP_RUNS) {
        throw fail(`${goal.name} is crash-looping: ${loops} runs ended within 5 seconds of their start since the wait began (last exit ${h.exit} after ${(h.lasted / 1000).toFixed(1)} seconds)`, `see why: djbpkg service logs ${goal.name}`);
      }
    }
    if (s.pid !== seenPid) {
      seenPid = s.pid;
      seenAt = now;
      if (s.pid !== 0) pids++;
    }
    if (goal.reached(s)) {
      if (!goal.mustRun(s)) return s;
      if (s.pid !== 0) {
        if (h && h.readyFd > 0) {
          if (h.ready > 0) return s;
          reason = `did not say it was ready within ${goal.seconds} seconds (nothing written on notification-fd ${h.readyFd})`;
        } else {
          // supervise shows the pid of a run that died during its 1-second start pause until the pause ends:
          // our history says when it ended; under C only a pid unchanged for longer than the pause tells.
          const running = h ? h.started > 0 && h.exited < h.started : true;
          const upSince = h && h.started > 0 ? h.started : s.since !== undefined ? Math.min(seenAt, s.since * 1000 + 999) : seenAt;
          if (running && now - upSince >= (h ? STAY_UP_MS : STAY_UP_C_MS)) return s;
          reason = pids > 1 ? `did not stay up for ${STAY_UP_MS / 1000} second within ${goal.seconds} seconds (${pids} different pids seen)` : `did not stay up for ${STAY_UP_MS / 1000} second within ${goal.seconds} seconds`;
        }
      } else if (!s.supervised) {
        reason = `did not come up within ${goal.seconds} seconds: supervise is not running`;
      }
    }
    if (now >= end) throw fail(`${goal.name} ${reason}`, goal.hint);
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, end - now))));
  }
}
