import { describe, expect, it } from 'vitest';
import { BASE_COMMANDS, SIGQ12_COMMANDS, TABLE, commandOf, type Action, type Event, type Row, type State } from '../../src/supervision/machine.js';

/**
 * supervise's state × event table, walked cell by cell against the behaviour
 * of daemontools 0.76's supervise: the control bytes (u d o p c h a i t k x),
 * the child's exit, the one-second pause after every start, and the sigq12
 * patch set's q 1 2.
 */

const STATES: State[] = ['down', 'starting', 'up'];
const EVENTS: Event[] = [...BASE_COMMANDS, ...SIGQ12_COMMANDS, 'exited', 'awake'] as Event[];
const ACTIONS = new Set<string>(['wantUp', 'wantDown', 'wantNone', 'pause', 'unpause', 'start', 'restartIfWantUp', 'clearPid', 'awake', 'flagExit', 'exitIfFlagged', 'announce']);
const SIGNALS = { h: 'SIGHUP', a: 'SIGALRM', i: 'SIGINT', t: 'SIGTERM', k: 'SIGKILL', q: 'SIGQUIT', '1': 'SIGUSR1', '2': 'SIGUSR2' } as const;

function row(state: State, event: Event): readonly Action[] {
  const r: Row = TABLE[state][event];
  if (r === 'defer') throw new Error(`${state} × ${event} is deferred`);
  return r;
}

const kills = (r: readonly Action[]) => r.filter((a) => a.startsWith('kill:')).map((a) => a.slice(5));

/** The state after a row's actions: `start` → starting, `clearPid` → down, `awake` → up; `restartIfWantUp` may start. */
function next(state: State, r: readonly Action[], wantUp: boolean): State {
  let s = state;
  for (const a of r) {
    if (a === 'start' || (a === 'restartIfWantUp' && wantUp)) s = 'starting';
    else if (a === 'clearPid') s = 'down';
    else if (a === 'awake') s = 'up';
  }
  return s;
}

describe("supervise's state table", () => {
  it('has a defined outcome for every state × event: a list of known actions, or defer', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...STATES].sort());
    for (const s of STATES) {
      expect(Object.keys(TABLE[s]).sort(), s).toEqual([...EVENTS].sort());
      for (const e of EVENTS) {
        const r = TABLE[s][e];
        if (r === 'defer') continue;
        expect(Array.isArray(r), `${s} × ${e}`).toBe(true);
        for (const a of r) {
          const known = ACTIONS.has(a) || /^kill:SIG[A-Z0-9]+$/.test(a);
          expect(known, `${s} × ${e}: ${a}`).toBe(true);
        }
      }
    }
  });

  it('defers everything during the one-second pause after a start, and only then; the pause ends by awake', () => {
    for (const e of EVENTS) {
      if (e === 'awake') expect(TABLE.starting.awake).toEqual(['awake']);
      else expect(TABLE.starting[e], `starting × ${e}`).toBe('defer');
      expect(TABLE.down[e], `down × ${e}`).not.toBe('defer');
      expect(TABLE.up[e], `up × ${e}`).not.toBe('defer');
    }
    expect(row('down', 'awake')).toEqual([]);
    expect(row('up', 'awake')).toEqual([]);
  });

  it('every row leads to a state of the table', () => {
    for (const s of STATES) {
      for (const e of EVENTS) {
        const r = TABLE[s][e];
        if (r === 'defer') continue;
        for (const wantUp of [true, false]) expect(STATES, `${s} × ${e}`).toContain(next(s, r, wantUp));
      }
    }
    expect(next('down', row('down', 'u'), true)).toBe('starting');
    expect(next('starting', row('starting', 'awake'), true)).toBe('up');
    expect(next('up', row('up', 'exited'), true)).toBe('starting');
    expect(next('up', row('up', 'exited'), false)).toBe('down');
  });

  it('u: want up; starts run only when there is no child', () => {
    expect(row('down', 'u')).toContain('wantUp');
    expect(row('down', 'u')).toContain('start');
    expect(row('up', 'u')).toContain('wantUp');
    expect(row('up', 'u')).not.toContain('start');
  });

  it('d: want down; a child gets TERM then CONT and is no longer paused; no child, no signal', () => {
    const up = row('up', 'd');
    expect(up).toContain('wantDown');
    expect(kills(up)).toEqual(['SIGTERM', 'SIGCONT']);
    expect(up).toContain('unpause');
    expect(row('down', 'd')).toContain('wantDown');
    expect(kills(row('down', 'd'))).toEqual([]);
    expect(row('down', 'd')).not.toContain('start');
  });

  it('o: want none (never restarted); starts run once only when there is no child', () => {
    expect(row('down', 'o')).toEqual(expect.arrayContaining(['wantNone', 'start']));
    expect(row('up', 'o')).toContain('wantNone');
    expect(row('up', 'o')).not.toContain('start');
  });

  it('p and c: paused flag; STOP and CONT go only to a child', () => {
    expect(row('up', 'p')).toContain('pause');
    expect(kills(row('up', 'p'))).toEqual(['SIGSTOP']);
    expect(row('down', 'p')).toContain('pause');
    expect(kills(row('down', 'p'))).toEqual([]);
    expect(row('up', 'c')).toContain('unpause');
    expect(kills(row('up', 'c'))).toEqual(['SIGCONT']);
    expect(kills(row('down', 'c'))).toEqual([]);
  });

  it('h a i t k (and q 1 2 of sigq12): exactly their signal to a child, nothing without one, status not rewritten', () => {
    for (const [c, sig] of Object.entries(SIGNALS) as [keyof typeof SIGNALS, string][]) {
      expect(row('up', c), c).toEqual([`kill:${sig}`]);
      expect(row('down', c), c).toEqual([]);
    }
  });

  it('u d o p c x rewrite the status; signal-only bytes do not', () => {
    for (const c of 'udopcx') {
      expect(row('down', c as Event), `down × ${c}`).toContain('announce');
      expect(row('up', c as Event), `up × ${c}`).toContain('announce');
    }
  });

  it('x: exit flag; supervise exits at once when down, and when up only after the child exits (not signalled, not restarted)', () => {
    expect(row('down', 'x')).toEqual(expect.arrayContaining(['flagExit', 'exitIfFlagged']));
    expect(row('up', 'x')).toContain('flagExit');
    expect(row('up', 'x')).not.toContain('exitIfFlagged');
    expect(kills(row('up', 'x'))).toEqual([]);
    const exited = row('up', 'exited');
    expect(exited.indexOf('exitIfFlagged')).toBeGreaterThan(-1);
    expect(exited.indexOf('exitIfFlagged')).toBeLessThan(exited.indexOf('restartIfWantUp'));
  });

  it("the child's exit: pid cleared, status written, then exit if flagged, then restart if wanted up", () => {
    expect(row('up', 'exited')).toEqual(['clearPid', 'announce', 'exitIfFlagged', 'restartIfWantUp']);
    expect(row('down', 'exited')).toEqual([]);
  });

  it('signals go only to a child: no kill action in a state without one', () => {
    for (const e of EVENTS) expect(kills(row('down', e)), `down × ${e}`).toEqual([]);
  });

  it('reads control bytes as 0.76 does: other bytes ignored, q 1 2 only with sigq12', () => {
    for (const c of BASE_COMMANDS) {
      expect(commandOf(c.charCodeAt(0), false)).toBe(c);
      expect(commandOf(c.charCodeAt(0), true)).toBe(c);
    }
    for (const c of SIGQ12_COMMANDS) {
      expect(commandOf(c.charCodeAt(0), false)).toBeUndefined();
      expect(commandOf(c.charCodeAt(0), true)).toBe(c);
    }
    for (const c of ['U', 'z', '\n', '\0', ' ', 'e', '3']) expect(commandOf(c.charCodeAt(0), true), JSON.stringify(c)).toBeUndefined();
  });
});
