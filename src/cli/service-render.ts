import type { ServiceChange, ServiceStatus, SuperviseState } from '../service/index.js';

/** How `djbpkg service` shows supervise states: svstat's words, or JSON. */

function seconds(s: SuperviseState, nowMs: number): number | null {
  return s.since === undefined ? null : Math.max(0, Math.floor(nowMs / 1000) - s.since);
}

export function stateJson(s: SuperviseState, nowMs: number): Record<string, unknown> {
  return {
    supervised: s.supervised,
    up: s.pid !== 0,
    pid: s.pid === 0 ? null : s.pid,
    seconds: seconds(s, nowMs),
    normallyUp: s.normallyUp,
    paused: s.paused,
    want: s.want ?? null,
  };
}

/** svstat's words for one supervise state. */
export function stateText(s: SuperviseState, nowMs: number): string {
  if (!s.supervised) return `supervise not running, normally ${s.normallyUp ? 'up' : 'down'}`;
  const secs = seconds(s, nowMs) ?? 0;
  const parts = [s.pid !== 0 ? `up (pid ${s.pid}) ${secs} seconds` : `down ${secs} seconds`, `normally ${s.normallyUp ? 'up' : 'down'}`];
  if (s.paused) parts.push('paused');
  if (s.pid === 0 && s.want === 'up') parts.push('want up');
  if (s.pid !== 0 && s.want === 'down') parts.push('want down');
  return parts.join(', ');
}

/** One line per service: `NAME: STATE; log: STATE`. */
export function statusLine(st: ServiceStatus, nowMs: number): string {
  if (!st.enabled) return `${st.name}: disabled (not in /service)`;
  const log = st.log ? `; log: ${stateText(st.log, nowMs)}` : '';
  return `${st.name}: ${stateText(st.state, nowMs)}${log}`;
}

export function changeJson(c: ServiceChange, nowMs: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: c.name, changed: c.changed, ...extra, state: stateJson(c.state, nowMs), log: c.log ? stateJson(c.log, nowMs) : null };
}
