import path from 'node:path';
import { readWarnings } from '../supervision/warnings.js';
import { parseTai64n, tai64nToUnix } from '../djb/tai64n.js';
import { historyOf, healthOf } from './health.js';
import type { Health } from './health.js';
import { HumanTimes } from './logs.js';
import { readState } from './supervise.js';

/** What `service logs` says about the logger itself, beside the log. */
export interface LoggerReport {
  /** The logger's health; undefined when the service has no log/. */
  health: Health | undefined;
  /** Whether the logger is wanted up and is not `up`. */
  failing: boolean;
  /** Warnings to show (`supervise/warnings`), local times, oldest first. */
  warnings: string[];
}

/**
 * The logger's health and the warnings worth showing: all of them while it
 * is failing (down or crash-looping though wanted up), else only those its
 * current run printed. `serviceDir` is where supervise runs the service.
 */
export function loggerReport(serviceDir: string, nowMs: number = Date.now()): LoggerReport {
  const logDir = path.join(serviceDir, 'log');
  const state = readState(logDir);
  const health = state.supervised || state.normallyUp ? healthOf(logDir, state, nowMs) : undefined;
  const wanted = state.supervised ? state.want === 'up' : false;
  const failing = wanted && health !== undefined && health.health !== 'up';
  const all = readWarnings(path.join(logDir, 'supervise'));
  const started = historyOf(logDir, state)?.started ?? 0;
  const shown = failing ? all : all.filter((l) => warningTime(l) >= started);
  const human = new HumanTimes();
  return { health, failing, warnings: shown.map((l) => human.line(l)) };
}

/** Unix milliseconds of a `@TAI64N text` line (0 when unlabelled). */
function warningTime(line: string): number {
  const t = parseTai64n(line.slice(0, 25));
  return t ? tai64nToUnix(t) * 1000 + Math.floor(t.nano / 1e6) : 0;
}
