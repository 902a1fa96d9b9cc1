import { DjbError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { sampleUnderC } from '../service/health.js';
import type { Health } from '../service/health.js';
import { serviceDir, serviceNames, servicePaths, serviceStatus } from '../service/index.js';
import { loggerReport } from '../service/logger-warnings.js';
import type { ServiceStatus, SuperviseState } from '../service/index.js';
import { healthWords } from '../service/health.js';
import { info, json } from './render.js';

/** `status`'s extra fields for one supervise (the service's or its logger's). */
export function healthJson(h: Health): Record<string, unknown> {
  return {
    health: h.health,
    restarts: h.restarts,
    lastExit: h.lastExit ? { status: h.lastExit.status, at: h.lastExit.at / 1000, seconds: h.lastExit.lastedMs / 1000 } : null,
    ready: h.ready,
    readyAt: h.readyAt === null ? null : h.readyAt / 1000,
    history: h.history,
    note: h.note,
  };
}

/** svstat's words for one state, then what the history adds; `crash-looping` leads when it holds. */
function described(stateText: (s: SuperviseState) => string, s: SuperviseState, h: Health | undefined, nowMs: number): string {
  const words = [stateText(s), ...(h ? healthWords(h, nowMs) : [])].join(', ');
  return h?.health === 'crash-looping' ? `crash-looping, ${words}` : words;
}

/** One line per service: `NAME: [crash-looping, ]STATE[, restarts, last exit, readiness]; log: ...`. */
export function healthLine(st: ServiceStatus, nowMs: number, stateText: (s: SuperviseState) => string): string {
  if (!st.enabled) return `${st.name}: disabled (not in /service)`;
  const log = st.log ? `; log: ${described(stateText, st.log, st.logHealth, nowMs)}` : '';
  return `${st.name}: ${described(stateText, st.state, st.health, nowMs)}${log}`;
}

/** What is wrong with one service, for the error line. */
function trouble(st: ServiceStatus): string {
  const parts: string[] = [];
  if (st.wantsUp && st.health.health === 'crash-looping') parts.push('crash-looping');
  // A logger that is down with its service (both unsupervised) is not named apart.
  const serviceDown = st.wantsUp && st.health.health === 'down';
  if (st.logWantsUp && st.logHealth && st.logHealth.health !== 'up' && !(serviceDown && st.logHealth.health === 'down')) parts.push(`logger ${st.logHealth.health}`);
  return parts.length ? `${st.name} (${parts.join(', ')})` : st.name;
}

/**
 * `djbpkg service status [NAMES]`: each service and its logger as up, down
 * or crash-looping, with restarts and last exit; exit 111 when any that is
 * wanted up is not `up`.
 */
export async function runStatus(io: Io, names: string[] | undefined, asJson: boolean, stateJson: (s: SuperviseState) => Record<string, unknown>, stateText: (s: SuperviseState) => string): Promise<void> {
  const list = names?.length ? names.map(String) : serviceNames(io.root);
  const all = await sampleUnderC(list.map((n) => serviceStatus(io.root, n)), Date.now());
  const bad = all.filter((s) => !s.ok);
  const now = io.now();
  if (asJson) {
    json(io.stdout, {
      root: io.root.dir,
      ok: bad.length === 0,
      services: all.map((s) => ({
        name: s.name,
        defined: s.defined,
        enabled: s.enabled,
        wantsUp: s.wantsUp,
        ok: s.ok,
        ...stateJson(s.state),
        ...healthJson(s.health),
        log: s.log ? { ...stateJson(s.log), ...(s.logHealth ? healthJson(s.logHealth) : {}) } : null,
      })),
    });
  } else if (all.length === 0) info(io.stderr, `no services in ${io.root.display(io.root.serviceDir)} or ${io.root.display(io.root.svcDefinitionsDir)}`);
  else io.stdout.write(all.map((s) => healthLine(s, now, stateText) + '\n').join(''));
  if (bad.length > 0) {
    const which = bad.map(trouble).join(', ');
    throw new DjbError('E_UNHEALTHY', `${bad.length === 1 ? 'service' : 'services'} ${which} should be up but ${bad.length === 1 ? 'is' : 'are'} not`, { temporary: true });
  }
}

/**
 * `service logs`: after the log lines, what the logger itself printed on
 * its stderr (supervise/warnings), on stderr; says so when the log has no
 * lines yet. Returns an error to throw (exit 111) when the logger is
 * failing, so that the warnings and the lines are printed first.
 */
export function reportLogger(io: Io, name: string, logDir: string, printedLines: number, askedLines: number): DjbError | undefined {
  const rep = loggerReport(serviceDir(servicePaths(io.root, name)));
  if (printedLines === 0 && askedLines > 0) info(io.stderr, `${name}: no log lines yet in ${io.root.display(logDir)}`);
  const word = rep.health?.health ?? 'down';
  if (rep.warnings.length > 0) {
    info(io.stderr, `${name}: the logger is ${word}; its last ${rep.warnings.length === 1 ? 'warning' : `${rep.warnings.length} warnings`} (from its stderr):`);
    io.stderr.write(rep.warnings.map((l) => `  ${l}\n`).join(''));
  }
  if (!rep.failing) return undefined;
  return new DjbError('E_UNHEALTHY', `the logger of ${name} is ${word}${rep.warnings.length ? '' : ' and printed no warning yet'}`, { temporary: true });
}
