/**
 * supervise's behaviour as data: for each state and event, the actions to
 * take in order, or `defer` to leave the event queued until the state changes.
 *
 * States: `down` (no child), `starting` (a child was just started: the
 * 1-second pause of 0.76, during which nothing is handled), `up` (a child runs).
 * Events: control bytes, `exited` (the child is gone), `awake` (the pause ended).
 * `start` moves to `starting`, `clearPid` to `down`, `awake` to `up`.
 *
 * Order of queued events, as 0.76's loop: the child's exit and one control
 * byte take turns (exit first). A start pause interrupts the turn, which
 * goes on after it: a restart made on an exit is followed by one control
 * byte before the next exit, so a `./run` that sends `svc -x` to its own
 * service and exits during the pause is not started again.
 */
export type State = 'down' | 'starting' | 'up';

/** Control bytes of 0.76, plus `q 1 2` of the sigq12 patch set. */
export const BASE_COMMANDS = 'udopchaitkx';
export const SIGQ12_COMMANDS = 'q12';
export type Command = 'u' | 'd' | 'o' | 'p' | 'c' | 'h' | 'a' | 'i' | 't' | 'k' | 'x' | 'q' | '1' | '2';
export type Event = Command | 'exited' | 'awake';

export type Action =
  | 'wantUp'
  | 'wantDown'
  | 'wantNone'
  | 'pause'
  | 'unpause'
  | 'start'
  | 'restartIfWantUp'
  | 'clearPid'
  | 'awake'
  | 'flagExit'
  | 'exitIfFlagged'
  | 'announce'
  | `kill:${NodeJS.Signals}`;

export type Row = readonly Action[] | 'defer';

const SIGNAL_ONLY: Record<'h' | 'a' | 'i' | 't' | 'k' | 'q' | '1' | '2', Action> = {
  h: 'kill:SIGHUP',
  a: 'kill:SIGALRM',
  i: 'kill:SIGINT',
  t: 'kill:SIGTERM',
  k: 'kill:SIGKILL',
  q: 'kill:SIGQUIT',
  '1': 'kill:SIGUSR1',
  '2': 'kill:SIGUSR2',
};

function signalRows(withChild: boolean): Record<keyof typeof SIGNAL_ONLY, Row> {
  const rows = {} as Record<keyof typeof SIGNAL_ONLY, Row>;
  for (const [k, a] of Object.entries(SIGNAL_ONLY)) rows[k as keyof typeof SIGNAL_ONLY] = withChild ? [a] : [];
  return rows;
}

const DEFER_ALL = Object.fromEntries(
  [...BASE_COMMANDS, ...SIGQ12_COMMANDS, 'exited'].map((e) => [e, 'defer' as const]),
) as Record<Exclude<Event, 'awake'>, Row>;

export const TABLE: Record<State, Record<Event, Row>> = {
  down: {
    u: ['wantUp', 'announce', 'start'],
    d: ['wantDown', 'announce'],
    o: ['wantNone', 'announce', 'start'],
    p: ['pause', 'announce'],
    c: ['unpause', 'announce'],
    x: ['flagExit', 'announce', 'exitIfFlagged'],
    ...signalRows(false),
    exited: [],
    awake: [],
  },
  starting: {
    ...DEFER_ALL,
    awake: ['awake'],
  },
  up: {
    u: ['wantUp', 'announce'],
    d: ['wantDown', 'kill:SIGTERM', 'kill:SIGCONT', 'unpause', 'announce'],
    o: ['wantNone', 'announce'],
    p: ['pause', 'announce', 'kill:SIGSTOP'],
    c: ['unpause', 'announce', 'kill:SIGCONT'],
    x: ['flagExit', 'announce'],
    ...signalRows(true),
    exited: ['clearPid', 'announce', 'exitIfFlagged', 'restartIfWantUp'],
    awake: [],
  },
};

/** The command a control byte stands for, or undefined when supervise ignores it. */
export function commandOf(byte: number, sigq12: boolean): Command | undefined {
  const c = String.fromCharCode(byte);
  if (BASE_COMMANDS.includes(c)) return c as Command;
  if (sigq12 && SIGQ12_COMMANDS.includes(c)) return c as Command;
  return undefined;
}
