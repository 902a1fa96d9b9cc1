import path from 'node:path';
import { crashLooping, LOOP_RUNS, LOOP_WINDOW_MS, readHistory, SHORT_RUN_MS } from '../supervision/history.js';
import type { History } from '../supervision/history.js';
import { readState } from './supervise.js';
import type { SuperviseState } from './supervise.js';
import type { ServiceStatus } from './manage.js';

/**
 * How a service (or its logger) really does, from `supervise/status` and,
 * under djbpkg's supervise, `supervise/history` (supervision/history.ts).
 *
 *  - `up`: a run is going and it is not in a crash loop;
 *  - `down`: no run (told to stay down, or supervise not running);
 *  - `crash-looping`: the crash-loop rule of history.ts holds (at least 3
 *    runs that lasted under 5 s ended in the last 60 s, and none has been up
 *    5 s since), or, under C supervise, the pid changed between two reads.
 *
 * C supervise writes no history: restarts, last exit and readiness are then
 * unknown (null), and a crash loop is seen only as a pid that changes.
 */
export type HealthWord = 'up' | 'down' | 'crash-looping';

export interface LastExit {
  /** `code N`, `signal NAME`, or `unknown` (a run adopted from an earlier supervise). */
  status: string;
  /** Unix milliseconds. */
  at: number;
  /** How long that run lasted, in milliseconds. */
  lastedMs: number;
}

export interface Health {
  health: HealthWord;
  /** Runs started since supervise started, less one; null without history. */
  restarts: number | null;
  lastExit: LastExit | null;
  /** Short runs (under 5 s) that ended in the last minute; null without history. */
  shortRuns: number | null;
  /** notification-fd of the current run; null when none is declared or without history. */
  readyFd: number | null;
  /** Whether the current run said it is ready (null: no readiness declared, or unknown). */
  ready: boolean | null;
  /** Unix milliseconds of the readiness line. */
  readyAt: number | null;
  /** `djbpkg` when supervise keeps a history, null when not (C supervise, or not supervised). */
  history: 'djbpkg' | null;
  /** Why something is unknown or how a crash loop was inferred. */
  note: string | null;
}

export const C_HISTORY_NOTE = 'C supervise keeps no history: restart count, last exit and readiness are unknown';

/** The history of the supervise of `dir`, when there is one and supervise runs. */
export function historyOf(dir: string, s: SuperviseState): History | undefined {
  return s.supervised ? readHistory(path.join(dir, 'supervise')) : undefined;
}

export function healthOf(dir: string, s: SuperviseState, nowMs: number): Health {
  const h = historyOf(dir, s);
  if (!h) {
    return {
      health: s.pid !== 0 ? 'up' : 'down',
      restarts: null,
      lastExit: null,
      shortRuns: null,
      readyFd: null,
      ready: null,
      readyAt: null,
      history: null,
      note: s.supervised ? C_HISTORY_NOTE : null,
    };
  }
  const upSince = s.pid !== 0 ? h.started || (s.since ?? 0) * 1000 : 0;
  const looping = crashLooping(h, nowMs, upSince);
  const declared = s.pid !== 0 && h.readyFd > 0;
  return {
    health: looping ? 'crash-looping' : s.pid !== 0 ? 'up' : 'down',
    restarts: Math.max(0, h.runs - 1),
    lastExit: h.exited > 0 ? { status: h.exit, at: h.exited, lastedMs: h.lasted } : null,
    shortRuns: h.short.filter((t) => nowMs - t < LOOP_WINDOW_MS).length,
    readyFd: declared ? h.readyFd : null,
    ready: declared ? h.ready > 0 : null,
    readyAt: declared && h.ready > 0 ? h.ready : null,
    history: 'djbpkg',
    note: looping ? `${LOOP_RUNS} or more runs ended within ${SHORT_RUN_MS / 1000} seconds of their start in the last ${LOOP_WINDOW_MS / 1000} seconds` : null,
  };
}

/** How long `refineUnderC` looks for a pid change. */
export const C_SAMPLE_MS = 1500;

/**
 * Under C supervise (no history), a service up for under a second may be
 * one that exits at once and is restarted every second: read its status
 * again after C_SAMPLE_MS; a different pid (or a down) then means a loop.
 */
export function needsCSample(h: Health, s: SuperviseState, nowMs: number): boolean {
  return h.history === null && s.supervised && s.pid !== 0 && s.since !== undefined && nowMs / 1000 - s.since < 2;
}

export function refineUnderC(h: Health, before: SuperviseState, dir: string): Health {
  const after = readState(dir);
  if (!after.supervised || after.pid === before.pid) return h;
  return { ...h, health: 'crash-looping', note: `pid changed from ${before.pid} to ${after.pid || 'none'} within ${C_SAMPLE_MS / 1000} seconds (${C_HISTORY_NOTE})` };
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
}

/** The words status adds after svstat's: restarts, last exit, readiness. */
export function healthWords(h: Health, nowMs: number): string[] {
  const words: string[] = [];
  if (h.restarts) words.push(`${h.restarts} ${h.restarts === 1 ? 'restart' : 'restarts'}`);
  if (h.lastExit) {
    const ago = Math.max(0, Math.floor((nowMs - h.lastExit.at) / 1000));
    words.push(`last exit ${h.lastExit.status} ${ago} seconds ago after ${secs(h.lastExit.lastedMs)} seconds`);
  }
  if (h.ready === true) words.push('ready');
  if (h.ready === false) words.push('not ready');
  return words;
}

/** Wanted up and `up`, for the service and for its logger. */
export function statusOk(wantsUp: boolean, health: Health, logWantsUp: boolean, logHealth: Health | undefined): boolean {
  return (!wantsUp || health.health === 'up') && (!logWantsUp || logHealth?.health === 'up');
}

/**
 * `service status` under C supervise: services (or loggers) up for under
 * 2 seconds are read again once, C_SAMPLE_MS later, all together.
 */
export async function sampleUnderC(all: ServiceStatus[], nowMs: number): Promise<ServiceStatus[]> {
  const young = all.some((st) => needsCSample(st.health, st.state, nowMs) || (st.log && st.logHealth && needsCSample(st.logHealth, st.log, nowMs)));
  if (!young) return all;
  await new Promise((r) => setTimeout(r, C_SAMPLE_MS));
  return all.map((st) => {
    const health = needsCSample(st.health, st.state, nowMs) ? refineUnderC(st.health, st.state, st.dir) : st.health;
    const logDir = path.join(st.dir, 'log');
    const logHealth = st.log && st.logHealth && needsCSample(st.logHealth, st.log, nowMs) ? refineUnderC(st.logHealth, st.log, logDir) : st.logHealth;
    return { ...st, health, logHealth, ok: statusOk(st.wantsUp, health, st.logWantsUp, logHealth) };
  });
}
