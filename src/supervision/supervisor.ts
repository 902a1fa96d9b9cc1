import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { mkfifo, processStartTime, signalProcess, tryLockExclusive } from '../posix/index.js';
import { errcode, errstr } from './errstr.js';
import { planRun } from './fastpath.js';
import { startPlan } from './faststart.js';
import { emptyHistory, noteExit, noteStart, readHistory, writeHistory, type History } from './history.js';
import { commandOf, TABLE, type Action } from './machine.js';
import { readChildRecord, writeChildRecord } from './sidecar.js';
import { notificationFd, ReadinessPipe } from './readiness.js';
import { packStatus, unpackStatus, type Want } from './status.js';
import { tai64nNow, type Tai64n } from './tai64n.js';
import { reopenStderrPipe, StderrTee } from './warnings.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK, O_APPEND, O_CREAT, O_TRUNC, O_DIRECTORY } = fs.constants;

/** supervise's pause after every start, during which commands stay queued. */
export const START_PAUSE_MS = 1000;
/** How often a re-adopted `./run` (not our child: no SIGCHLD, no exit status) is looked for in /proc. */
export const ADOPTED_POLL_MS = 1000;
/**
 * Descriptors a running supervisor holds: its service directory, `lock`,
 * `control` (read-write), `ok`. While a child runs, a logger also holds the
 * read end of its stderr pipe (STDERR_TEE_FDS), and a service that declares
 * notification-fd the read end of its readiness pipe until it is ready
 * (taken from svscan's reserve).
 */
export const SUPERVISOR_FDS = 4;
/** The read end of a logger's stderr pipe (warnings.ts). */
export const STDERR_TEE_FDS = 1;

export interface SupervisorOptions {
  /** The service directory (absolute, or relative to the process's cwd). */
  dir: string;
  /** The name 0.76 would print for it: supervise's own argument (`NAME`, or `log` under svscan). */
  label: string;
  /** Name in messages about our own faults (`NAME/log` under svscan); default `label`. */
  title?: string;
  /** Environment for `./run`. */
  env: NodeJS.ProcessEnv;
  /** fds 0, 1, 2 for `./run`. */
  stdio: [number, number, number];
  /** Inode of the log pipe in `stdio` (fd 1 of a service, fd 0 of a logger), recorded for a restarted svscan. */
  pipeIno?: bigint;
  /** Honour the sigq12 control bytes `q 1 2`. */
  sigq12: boolean;
  /** Prints one complete line (with `\n`) where supervise's stderr goes. */
  stderr(line: string): void;
  /** Told of every `./run` child: started, re-adopted, gone (svscan's hosted loggers use this). */
  childHooks?: ChildHooks;
  /** Give `./run` a stderr that is passed on to stdio[2] and kept in `supervise/warnings` (for loggers). */
  captureStderr?: boolean;
}

/** A program supervise runs instead of `./run` (a hosted logger's placeholder). */
export interface ChildCommand {
  file: string;
  args: string[];
  argv0: string;
  uid?: number;
  gid?: number;
}

/** What a hosted logger needs to know of the `./run` children of its supervisor. */
export interface ChildHooks {
  /** What to start instead of `./run` this time, if anything. */
  prepare(): ChildCommand | undefined;
  started(child: ChildProcess): void;
  /** supervise sent `sig` to its child `pid` (svc). */
  signalled?(pid: number, sig: NodeJS.Signals): void;
  /** A `./run` left running by a supervisor that died was taken over (not our child). */
  adopted?(pid: number): void;
  /** Called before supervise acts on the exit (and perhaps starts `./run` again); signal is null for an adopted child. */
  exited(pid: number, signal: NodeJS.Signals | null): void;
}

/** A startup failure of supervise: `message` is the complete line 0.76 prints; exit 111. */
export class SuperviseFatal extends Error {
  readonly line: string;
  constructor(line: string) {
    super(line.trimEnd());
    this.line = line;
  }
}

/**
 * One supervise: owns `DIR/supervise/{lock,control,ok,status}` and keeps
 * `./run` going. Many of them live in one process (svscan), so it never
 * changes the process's cwd: it holds an fd on the service directory and
 * works through `/proc/self/fd/N`, which, like C supervise's cwd, follows
 * the directory if it is renamed.
 *
 * A supervisor that finds, in `supervise/child` and `status`, a `./run`
 * still running from a predecessor that died (same pid, same start time)
 * adopts it instead of starting another: it watches it through /proc and
 * treats its disappearance as an exit.
 *
 * Every event handler is guarded: an unexpected error is one warning line
 * and this supervisor (and every other one in the process) keeps going.
 */
export class Supervisor {
  readonly label: string;
  /** Resolves when supervise has exited after `x`. */
  readonly exited: Promise<void>;

  private readonly opts: SupervisorOptions;
  private readonly base: string;
  private readonly fds: number[] = [];
  private control: net.Socket | undefined;
  private state: 'down' | 'starting' | 'up' = 'down';
  private want: Want;
  private paused = false;
  private flagExit = false;
  private pid = 0;
  private child: ChildProcess | undefined;
  /** How the current child was started: `fast` (supervise ran the chain itself) or `script` (`./run` by its shell). */
  private how: 'fast' | 'script' = 'script';
  /** Why the fast path was not taken (for `supervise/child`). */
  private why = '';
  /** Start time of an adopted `./run` while it is watched through /proc. */
  private adoptedStart: bigint | undefined;
  private watch: NodeJS.Timeout | undefined;
  private when: Tai64n = tai64nNow();
  private bytes: number[] = [];
  private exitPending = false;
  private awakeDue = false;
  /** 0.76 alternates: reap the child, then read one control byte (machine.ts). */
  private turn: 'reap' | 'byte' = 'reap';
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private resolveExited!: () => void;
  /** `supervise/history` (history.ts), rewritten at every start, exit and readiness. */
  private history: History = emptyHistory(Date.now());
  private readiness: ReadinessPipe | undefined;
  private tee: StderrTee | undefined;

  private constructor(opts: SupervisorOptions, dirFd: number, want: Want) {
    this.opts = opts;
    this.label = opts.label;
    this.base = `/proc/self/fd/${dirFd}`;
    this.fds.push(dirFd);
    this.want = want;
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  /**
   * supervise's start-up, in 0.76's order: service dir, `down`, lock,
   * `control`, first status, `ok`, then `./run` unless `down` exists or a
   * predecessor's `./run` is adopted. Throws SuperviseFatal (nothing left
   * open) when a step fails.
   */
  static start(opts: SupervisorOptions): Supervisor {
    const fatal = (what: string, err: unknown): never => {
      throw new SuperviseFatal(`supervise: fatal: ${what}: ${errstr(err)}\n`);
    };
    let dirFd: number;
    try {
      dirFd = fs.openSync(opts.dir, O_RDONLY | O_DIRECTORY);
    } catch (err) {
      return fatal(`unable to chdir to ${opts.label}`, err);
    }
    const base = `/proc/self/fd/${dirFd}`;
    let want: Want = 'down';
    try {
      fs.statSync(`${base}/down`);
    } catch (err) {
      if (errcode(err) !== 'ENOENT') {
        fs.closeSync(dirFd);
        return fatal(`unable to stat ${opts.label}/down`, err);
      }
      want = 'up';
    }
    const sup = new Supervisor(opts, dirFd, want);
    try {
      sup.openFiles(fatal);
    } catch (err) {
      sup.control?.destroy();
      sup.closeFds();
      throw err;
    }
    if (sup.adoptedStart !== undefined) {
      sup.watchAdopted();
      sup.guarded('adopt stderr', () => sup.adoptStderr());
      sup.guarded('adopt', () => opts.childHooks?.adopted?.(sup.pid));
    } else if (sup.want === 'up') {
      sup.guarded('start', () => sup.apply(['start']));
    }
    return sup;
  }

  private openFiles(fatal: (what: string, err: unknown) => never): void {
    const dir = `${this.base}/supervise`;
    const name = `${this.label}/supervise`;
    try {
      fs.mkdirSync(dir, 0o700);
    } catch {
      // EEXIST is normal; anything else surfaces when the lock is opened.
    }
    let lock: number;
    try {
      lock = fs.openSync(`${dir}/lock`, O_WRONLY | O_NONBLOCK | O_APPEND | O_CREAT, 0o600);
    } catch (err) {
      return fatal(`unable to acquire ${name}/lock`, err);
    }
    this.fds.push(lock);
    let locked: boolean;
    try {
      locked = tryLockExclusive(lock);
    } catch (err) {
      return fatal(`unable to acquire ${name}/lock`, err);
    }
    if (!locked) fatal(`unable to acquire ${name}/lock`, 'EAGAIN');
    this.adoptPredecessor(dir);
    this.fifo(`${dir}/control`);
    // One read-write descriptor: supervise reads it, and, as its own writer, never sees end of file.
    let control: number;
    try {
      control = fs.openSync(`${dir}/control`, O_RDWR | O_NONBLOCK);
    } catch (err) {
      return fatal(`unable to read ${name}/control`, err);
    }
    let isFifo = false;
    try {
      isFifo = fs.fstatSync(control).isFIFO();
    } catch {
      // Treated as not a FIFO below.
    }
    if (!isFifo) {
      // 0.76 would spin on a regular file forever; we stop here with the lock released, and retry later.
      fs.closeSync(control);
      throw new SuperviseFatal(`supervise: fatal: unable to read ${name}/control: not a FIFO\n`);
    }
    try {
      this.control = new net.Socket({ fd: control, readable: true, writable: false });
    } catch (err) {
      fs.closeSync(control);
      return fatal(`unable to read ${name}/control`, err);
    }
    this.control.on('data', (chunk: Buffer) => this.guarded('control', () => this.onControl(chunk)));
    this.control.on('error', () => {});
    this.announce();
    this.saveHistory();
    this.fifo(`${dir}/ok`);
    try {
      this.fds.push(fs.openSync(`${dir}/ok`, O_RDONLY | O_NONBLOCK));
    } catch (err) {
      return fatal(`unable to read ${name}/ok`, err);
    }
  }

  /**
   * Takes over the `./run` of a supervisor that died, when `child` and
   * `status` name the same pid and that process still has the recorded
   * start time: its want, paused flag and timestamp are kept.
   */
  private adoptPredecessor(dir: string): void {
    const rec = readChildRecord(dir);
    if (!rec) return;
    let prior;
    try {
      prior = unpackStatus(fs.readFileSync(`${dir}/status`));
    } catch {
      return;
    }
    if (!prior || prior.pid !== rec.pid || processStartTime(rec.pid) !== rec.start) return;
    this.pid = rec.pid;
    this.adoptedStart = rec.start;
    this.history = readHistory(dir) ?? this.history;
    this.state = 'up';
    this.want = prior.want;
    this.paused = prior.paused;
    this.when = prior.when;
  }

  /** A logger's run taken over keeps its stderr pipe read (warnings.ts). */
  private adoptStderr(): void {
    if (!this.opts.captureStderr) return;
    const fd = reopenStderrPipe(this.pid);
    if (fd === undefined) return;
    this.tee = new StderrTee(`${this.base}/supervise`, this.opts.stdio[2], (err) => {
      this.opts.stderr(`supervise: warning: unable to write ${this.label}/supervise/warnings: ${errstr(err)}\n`);
    }, fd);
  }

  private watchAdopted(): void {
    this.watch = setInterval(() => this.guarded('watch', () => this.checkAdopted()), ADOPTED_POLL_MS);
  }

  private checkAdopted(): void {
    if (this.adoptedStart === undefined || processStartTime(this.pid) === this.adoptedStart) return;
    this.stopWatching();
    const pid = this.pid;
    this.noteExit('unknown');
    this.guarded('exit hook', () => this.opts.childHooks?.exited(pid, null));
    this.exitPending = true;
    this.pump();
  }

  private stopWatching(): void {
    if (this.watch) clearInterval(this.watch);
    this.watch = undefined;
    this.adoptedStart = undefined;
  }

  private fifo(path: string): void {
    try {
      mkfifo(path, 0o600);
    } catch {
      // Already there (or unusable: the open that follows says why).
    }
  }

  /** Runs `fn`; an unexpected error becomes one warning line instead of leaving this handler (or svscan). */
  private guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      try {
        this.opts.stderr(`supervise: warning: ${this.opts.title ?? this.label}: internal error in ${what}: ${text.split('\n')[0]}\n`);
      } catch {
        // Nowhere to report; keep going all the same.
      }
    }
  }

  private onControl(chunk: Buffer): void {
    for (const b of chunk) this.bytes.push(b);
    this.pump();
  }

  /**
   * Handles queued events until none is left or the start pause holds them.
   * As 0.76's loop: the child's exit, then one control byte, in turn; after
   * a start pause the turn goes on where the start interrupted it.
   */
  private pump(): void {
    while (!this.finished) {
      if (this.awakeDue) {
        this.awakeDue = false;
        this.guarded('start pause', () => this.apply(['awake']));
        continue;
      }
      if (this.state === 'starting') return;
      if (!this.exitPending && this.bytes.length === 0) return;
      if (this.turn === 'reap') {
        this.turn = 'byte';
        if (!this.exitPending) continue;
        this.exitPending = false;
        const row = TABLE[this.state].exited;
        if (row !== 'defer') this.guarded('exit', () => this.apply(row));
      } else {
        this.turn = 'reap';
        const byte = this.bytes.shift();
        if (byte === undefined) continue;
        const command = commandOf(byte, this.opts.sigq12);
        if (command === undefined) continue;
        const row = TABLE[this.state][command];
        if (row !== 'defer') this.guarded(`control ${command}`, () => this.apply(row));
      }
    }
  }

  private apply(actions: readonly Action[]): void {
    for (const action of actions) {
      if (this.finished) return;
      switch (action) {
        case 'wantUp':
          this.want = 'up';
          break;
        case 'wantDown':
          this.want = 'down';
          break;
        case 'wantNone':
          this.want = 'none';
          break;
        case 'pause':
          this.paused = true;
          break;
        case 'unpause':
          this.paused = false;
          break;
        case 'announce':
          this.announce();
          break;
        case 'flagExit':
          this.flagExit = true;
          break;
        case 'exitIfFlagged':
          if (this.flagExit) this.finish();
          break;
        case 'start':
          this.startChild();
          break;
        case 'restartIfWantUp':
          if (this.want === 'up') this.startChild();
          break;
        case 'clearPid':
          this.stopWatching();
          this.pid = 0;
          this.child = undefined;
          this.when = tai64nNow();
          this.state = 'down';
          break;
        case 'awake':
          this.state = 'up';
          break;
        default:
          this.signal(action.slice(5) as NodeJS.Signals);
      }
    }
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.pid === 0) return;
    try {
      signalProcess(this.pid, sig, this.opts.dir);
      const pid = this.pid;
      this.guarded('signal hook', () => this.opts.childHooks?.signalled?.(pid, sig));
    } catch (err) {
      // The child may have died an instant ago: its exit is on its way. Anything else is a fault.
      if (errcode(err) === undefined) throw err;
    }
  }

  private startChild(): void {
    this.stopWatching();
    this.paused = false;
    this.when = tai64nNow();
    this.state = 'starting';
    let child: ChildProcess | undefined;
    let failed: unknown;
    const hooks = this.opts.childHooks;
    let readyFd = 0;
    try {
      this.how = 'script';
      const instead = hooks?.prepare();
      const env = this.opts.env;
      const fds = this.childFds();
      readyFd = fds.readyFd;
      try {
        this.why = instead ? 'a logger' : 'fast path off';
        if (instead) {
          child = spawn(instead.file, instead.args, { cwd: this.base, env, stdio: fds.stdio, argv0: instead.argv0, uid: instead.uid, gid: instead.gid });
        } else {
          if (hooks) this.why = 'a logger';
          else if (!fds.stdio.slice(0, 3).every((fd) => typeof fd === 'number')) this.why = 'descriptors 0-2';
          else if (fastPathOn()) {
            const planned = planRun(this.base, this.opts.env);
            if ('plan' in planned) {
              child = startPlan(planned.plan, this.base, fds.stdio);
              this.why = 'the start failed';
            } else this.why = planned.reason;
            if (child) this.how = 'fast';
          }
          child ??= spawn('./run', [], { cwd: this.base, env, stdio: fds.stdio });
        }
      } finally {
        this.readiness?.closeWriteEnd();
        this.tee?.closeWriteEnd();
      }
    } catch (err) {
      failed = err;
    }
    noteStart(this.history, Date.now(), child?.pid !== undefined ? readyFd : 0);
    if (child?.pid !== undefined) {
      const c = child;
      this.child = c;
      this.pid = c.pid!;
      c.once('exit', (code, signal) => this.guarded('exit', () => this.onChildExit(c, code, signal)));
      c.on('error', () => {});
      // The history (which a reader of the new pid may look at), then the new pid, then the successor's record.
      this.saveHistory();
      this.announce();
      this.record();
      this.guarded('start hook', () => hooks?.started(c));
    } else {
      this.pid = 0;
      this.noteExit('code 111');
      if (child) child.on('error', () => {});
      const report = (err: unknown) => {
        this.opts.stderr(`supervise: fatal: unable to start ${this.label}/run: ${errstr(err)}\n`);
      };
      if (failed !== undefined) report(failed);
      else child!.once('error', report);
      // 0.76's child reports the failure and exits 111: the same as a child that died at once.
      this.exitPending = true;
      this.announce();
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.awakeDue = true;
      this.guarded('start pause', () => this.pump());
    }, START_PAUSE_MS);
  }

  /**
   * The descriptors of the next `./run`: fds 0-2 (fd 2 the stderr tee for a
   * logger), the hooks' extra descriptors from fd 3 on, then the write end
   * of the readiness pipe on the notification-fd the service declares.
   * Every descriptor the child gets beyond 0-2 is added here, and only here.
   */
  private childFds(): { stdio: (number | 'ignore')[]; readyFd: number } {
    this.closePipes();
    const stdio: (number | 'ignore')[] = [...this.opts.stdio];
    if (this.opts.captureStderr) {
      const superviseDir = `${this.base}/supervise`;
      this.tee = new StderrTee(superviseDir, this.opts.stdio[2], (err) => {
        this.opts.stderr(`supervise: warning: unable to write ${this.label}/supervise/warnings: ${errstr(err)}\n`);
      });
      stdio[2] = this.tee.writeFd;
    }
    const declared = notificationFd(this.base);
    if (declared.warning) this.opts.stderr(`supervise: warning: ${this.opts.title ?? this.label}: ${declared.warning}\n`);
    let readyFd = declared.fd;
    if (readyFd !== 0 && readyFd < stdio.length) {
      this.opts.stderr(`supervise: warning: ${this.opts.title ?? this.label}: notification-fd ${readyFd} is already in use; readiness is not watched\n`);
      readyFd = 0;
    }
    if (readyFd !== 0) {
      const pipe = new ReadinessPipe(() => this.guarded('ready', () => this.onReady(pipe)));
      this.readiness = pipe;
      while (stdio.length < readyFd) stdio.push('ignore');
      stdio.push(pipe.writeFd);
    }
    return { stdio, readyFd };
  }

  private onReady(pipe: ReadinessPipe): void {
    if (pipe !== this.readiness || this.finished) return;
    this.readiness = undefined;
    this.history.ready = Date.now();
    this.saveHistory();
  }

  /** The readiness pipe of the run that ended; the stderr tee ends by itself when every writer is gone. */
  private closePipes(): void {
    this.readiness?.close();
    this.readiness = undefined;
    this.tee = undefined;
  }

  private noteExit(exit: string): void {
    this.closePipes();
    noteExit(this.history, Date.now(), exit);
    this.saveHistory();
  }

  /** Rewrites `supervise/history`; a failure costs only the history, so it is a warning. */
  private saveHistory(): void {
    try {
      writeHistory(`${this.base}/supervise`, this.history);
    } catch (err) {
      this.opts.stderr(`supervise: warning: unable to write ${this.label}/supervise/history: ${errstr(err)}\n`);
    }
  }

  /** Writes `supervise/child` for a successor; a failure costs only the adoption, so it is a warning. */
  private record(): void {
    try {
      writeChildRecord(`${this.base}/supervise`, {
        pid: this.pid,
        start: processStartTime(this.pid) ?? 0n,
        pipe: this.opts.pipeIno ?? 0n,
        run: this.how,
        ...(this.how === 'script' ? { why: this.why } : {}),
      });
    } catch (err) {
      this.opts.stderr(`supervise: warning: unable to write ${this.label}/supervise/child: ${errstr(err)}\n`);
    }
  }

  private onChildExit(c: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (c !== this.child || this.finished) return;
    this.noteExit(signal ? `signal ${signal.replace(/^SIG/, '')}` : `code ${code ?? 0}`);
    this.guarded('exit hook', () => this.opts.childHooks?.exited(c.pid!, signal));
    this.exitPending = true;
    this.pump();
  }

  private announce(): void {
    const dir = `${this.base}/supervise`;
    const name = `${this.label}/supervise`;
    const bytes = packStatus({ when: this.when, pid: this.pid, paused: this.paused, want: this.want });
    let fd: number;
    try {
      fd = fs.openSync(`${dir}/status.new`, O_WRONLY | O_NONBLOCK | O_TRUNC | O_CREAT, 0o644);
    } catch (err) {
      this.opts.stderr(`supervise: warning: unable to open ${name}/status.new: ${errstr(err)}\n`);
      return;
    }
    try {
      const n = fs.writeSync(fd, bytes);
      if (n < bytes.length) {
        this.opts.stderr(`supervise: warning: unable to write ${name}/status.new: partial write\n`);
        return;
      }
    } catch (err) {
      this.opts.stderr(`supervise: warning: unable to write ${name}/status.new: ${errstr(err)}\n`);
      return;
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.renameSync(`${dir}/status.new`, `${dir}/status`);
    } catch (err) {
      this.opts.stderr(`supervise: warning: unable to rename ${name}/status.new to status: ${errstr(err)}\n`);
    }
  }

  private finish(): void {
    this.announce();
    this.finished = true;
    this.stopWatching();
    this.readiness?.close();
    this.readiness = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.control?.destroy();
    this.closeFds();
    this.resolveExited();
  }

  private closeFds(): void {
    for (const fd of this.fds.splice(0)) {
      try {
        fs.closeSync(fd);
      } catch {
        // Already closed.
      }
    }
  }
}

/**
 * The fast path (fastpath.ts) is on unless svscan's environment has
 * DJBPKG_TEST_FASTPATH=off: a switch for the differential tests, which run
 * the same scripts both ways.
 */
function fastPathOn(): boolean {
  return process.env.DJBPKG_TEST_FASTPATH !== 'off';
}
