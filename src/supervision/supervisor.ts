import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { signalProcess } from '../posix/index.js';
import { AdoptedWatch, findPredecessor } from './adopt.js';
import { errcode, errstr } from '../djb/errstr.js';
import { planRun } from './fastpath.js';
import { startPlan } from './faststart.js';
import { commandOf, TABLE, type Action } from './machine.js';
import { RunRecord } from './runrecord.js';
import { type Want } from './status.js';
import { openControl, openLock, openOk, openServiceDir, SuperviseFatal, writeStatus, type Fatal } from './supervisedir.js';
import type { SupervisorOptions } from './superviseopts.js';
import { tai64nNow, type Tai64n } from '../djb/tai64n.js';

export { ADOPTED_POLL_MS } from './adopt.js';
export { STDERR_TEE_FDS, SUPERVISOR_FDS, type ChildCommand, type ChildHooks, type SupervisorOptions } from './superviseopts.js';
export { SuperviseFatal } from './supervisedir.js';

/** supervise's pause after every start, during which commands stay queued. */
export const START_PAUSE_MS = 1000;

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
 * (adopt.ts) and treats its disappearance as an exit.
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
  /** An adopted `./run` while it is watched through /proc. */
  private adopted: AdoptedWatch | undefined;
  private when: Tai64n = tai64nNow();
  private bytes: number[] = [];
  private exitPending = false;
  private awakeDue = false;
  /** 0.76 alternates: reap the child, then read one control byte (machine.ts). */
  private turn: 'reap' | 'byte' = 'reap';
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private resolveExited!: () => void;
  /** History, readiness pipe, stderr tee and `supervise/child` of the current run. */
  private readonly run: RunRecord;

  private constructor(opts: SupervisorOptions, dirFd: number, want: Want) {
    this.opts = opts;
    this.label = opts.label;
    this.base = `/proc/self/fd/${dirFd}`;
    this.fds.push(dirFd);
    this.want = want;
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    this.run = new RunRecord({
      base: this.base,
      label: opts.label,
      title: opts.title ?? opts.label,
      stdio: opts.stdio,
      captureStderr: opts.captureStderr === true,
      pipeIno: opts.pipeIno,
      stderr: (line) => opts.stderr(line),
      guard: (what, fn) => this.guarded(what, fn),
    });
  }

  /**
   * supervise's start-up, in 0.76's order: service dir, `down`, lock,
   * `control`, first status, `ok`, then `./run` unless `down` exists or a
   * predecessor's `./run` is adopted. Throws SuperviseFatal (nothing left
   * open) when a step fails.
   */
  static start(opts: SupervisorOptions): Supervisor {
    const fatal: Fatal = (what, err) => {
      throw new SuperviseFatal(`supervise: fatal: ${what}: ${errstr(err)}\n`);
    };
    const { dirFd, want } = openServiceDir(opts.dir, opts.label, fatal);
    const sup = new Supervisor(opts, dirFd, want);
    try {
      sup.openFiles(fatal);
    } catch (err) {
      sup.control?.destroy();
      sup.closeFds();
      throw err;
    }
    const adopted = sup.adopted;
    if (adopted !== undefined) {
      adopted.begin((what, fn) => sup.guarded(what, fn), () => sup.adoptedGone(adopted.pid));
      sup.guarded('adopt stderr', () => sup.run.adoptStderr(sup.pid));
      sup.guarded('adopt', () => opts.childHooks?.adopted?.(sup.pid));
    } else if (sup.want === 'up') {
      sup.guarded('start', () => sup.apply(['start']));
    }
    return sup;
  }

  private openFiles(fatal: Fatal): void {
    const dir = `${this.base}/supervise`;
    const name = `${this.label}/supervise`;
    this.fds.push(openLock(dir, name, fatal));
    this.adoptPredecessor(dir);
    const control = openControl(dir, name, fatal);
    try {
      this.control = new net.Socket({ fd: control, readable: true, writable: false });
    } catch (err) {
      fs.closeSync(control);
      return fatal(`unable to read ${name}/control`, err);
    }
    this.control.on('data', (chunk: Buffer) => this.guarded('control', () => this.onControl(chunk)));
    this.control.on('error', () => {});
    this.announce();
    this.run.save();
    this.fds.push(openOk(dir, name, fatal));
  }

  /** Takes over the `./run` of a supervisor that died (adopt.ts): its want, paused flag and timestamp are kept. */
  private adoptPredecessor(dir: string): void {
    const prior = findPredecessor(dir);
    if (!prior) return;
    this.pid = prior.pid;
    this.adopted = new AdoptedWatch(prior.pid, prior.start);
    this.run.history = prior.history ?? this.run.history;
    this.state = 'up';
    this.want = prior.want;
    this.paused = prior.paused;
    this.when = prior.when;
  }

  /** The adopted `./run` is gone: an exit, with no status to report. */
  private adoptedGone(pid: number): void {
    this.adopted = undefined;
    this.run.noteExit('unknown');
    this.guarded('exit hook', () => this.opts.childHooks?.exited(pid, null));
    this.exitPending = true;
    this.pump();
  }

  private stopWatching(): void {
    this.adopted?.stop();
    this.adopted = undefined;
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
      const fds = this.run.childFds();
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
        this.run.closeWriteEnds();
      }
    } catch (err) {
      failed = err;
    }
    this.run.noteStart(child?.pid !== undefined ? readyFd : 0);
    if (child?.pid !== undefined) {
      const c = child;
      this.child = c;
      this.pid = c.pid!;
      c.once('exit', (code, signal) => this.guarded('exit', () => this.onChildExit(c, code, signal)));
      c.on('error', () => {});
      // The history and the successor's record before the new pid is shown: whoever sees the pid in
      // status (and then kills this supervise) leaves a record the next supervise adopts the run by.
      this.run.save();
      this.run.writeChild(this.pid, this.how, this.why);
      this.announce();
      this.guarded('start hook', () => hooks?.started(c));
    } else {
      this.pid = 0;
      this.run.noteExit('code 111');
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

  private onChildExit(c: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (c !== this.child || this.finished) return;
    this.run.noteExit(signal ? `signal ${signal.replace(/^SIG/, '')}` : `code ${code ?? 0}`);
    this.guarded('exit hook', () => this.opts.childHooks?.exited(c.pid!, signal));
    this.exitPending = true;
    this.pump();
  }

  private announce(): void {
    const status = { when: this.when, pid: this.pid, paused: this.paused, want: this.want };
    writeStatus(`${this.base}/supervise`, `${this.label}/supervise`, status, (line) => this.opts.stderr(line));
  }

  private finish(): void {
    this.announce();
    this.finished = true;
    this.stopWatching();
    this.run.end();
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
