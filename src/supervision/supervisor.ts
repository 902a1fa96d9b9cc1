import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { mkfifo, tryLockExclusive } from '../posix/index.js';
import { errcode, errstr } from './errstr.js';
import { commandOf, TABLE, type Action, type Event, type State } from './machine.js';
import { packStatus, type Want } from './status.js';
import { tai64nNow, type Tai64n } from './tai64n.js';

const { O_RDONLY, O_WRONLY, O_NONBLOCK, O_APPEND, O_CREAT, O_TRUNC, O_DIRECTORY } = fs.constants;

/** supervise's pause after every start, during which commands stay queued. */
export const START_PAUSE_MS = 1000;

export interface SupervisorOptions {
  /** The service directory (absolute, or relative to the process's cwd). */
  dir: string;
  /** The name 0.76 would print for it: supervise's own argument (`NAME`, or `log` under svscan). */
  label: string;
  /** Environment for `./run`. */
  env: NodeJS.ProcessEnv;
  /** fds 0, 1, 2 for `./run`. */
  stdio: [number, number, number];
  /** Honour the sigq12 control bytes `q 1 2`. */
  sigq12: boolean;
  /** Prints one complete line (with `\n`) where supervise's stderr goes. */
  stderr(line: string): void;
  /** svscan's hosted logger for this (log) service, told of every `./run` (see loghost/). */
  childHooks?: ChildHooks;
}

/** What a hosted logger needs to know of the `./run` children of its supervisor. */
export interface ChildHooks {
  /** Extra descriptors (from fd 3 on) and environment for the next `./run`. */
  prepare(): { stdio: 'pipe'[]; env: NodeJS.ProcessEnv };
  started(child: ChildProcess): void;
  /** Called before supervise acts on the exit (and perhaps starts `./run` again). */
  exited(pid: number, signal: NodeJS.Signals | null): void;
  /** A restarted svscan re-adopted `pid` as this service's running child: the logger goes on if it was hosted. */
  adopted?(pid: number): boolean;
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
 */
export class Supervisor {
  readonly label: string;
  /** Resolves when supervise has exited after `x`. */
  readonly exited: Promise<void>;

  private readonly opts: SupervisorOptions;
  private readonly base: string;
  private readonly fds: number[] = [];
  private control: net.Socket | undefined;
  private state: State = 'down';
  private want: Want;
  private paused = false;
  private flagExit = false;
  private pid = 0;
  private child: ChildProcess | undefined;
  private when: Tai64n = tai64nNow();
  private bytes: number[] = [];
  private exitPending = false;
  private awakeDue = false;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private resolveExited!: () => void;

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
   * `control`, first status, `ok`, then `./run` unless `down` exists.
   * Throws SuperviseFatal (nothing left open) when a step fails.
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
      sup.closeFds();
      throw err;
    }
    sup.control = new net.Socket({ fd: sup.fds[2]!, readable: true, writable: false });
    sup.fds.splice(2, 1);
    sup.control.on('data', (chunk: Buffer) => sup.onControl(chunk));
    sup.control.on('error', () => {});
    if (want === 'up') sup.apply(['start']);
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
    this.fifo(`${dir}/control`);
    try {
      this.fds.push(fs.openSync(`${dir}/control`, O_RDONLY | O_NONBLOCK));
    } catch (err) {
      return fatal(`unable to read ${name}/control`, err);
    }
    try {
      this.fds.push(fs.openSync(`${dir}/control`, O_WRONLY | O_NONBLOCK));
    } catch (err) {
      return fatal(`unable to write ${name}/control`, err);
    }
    this.announce();
    this.fifo(`${dir}/ok`);
    try {
      this.fds.push(fs.openSync(`${dir}/ok`, O_RDONLY | O_NONBLOCK));
    } catch (err) {
      return fatal(`unable to read ${name}/ok`, err);
    }
  }

  private fifo(path: string): void {
    try {
      mkfifo(path, 0o600);
    } catch {
      // Already there (or unusable: the open that follows says why).
    }
  }

  private onControl(chunk: Buffer): void {
    for (const b of chunk) this.bytes.push(b);
    this.pump();
  }

  /** Handles queued events until one is deferred or none is left. */
  private pump(): void {
    while (!this.finished) {
      let event: Event | undefined;
      let fromBytes = false;
      if (this.awakeDue) event = 'awake';
      else if (this.exitPending) event = 'exited';
      else if (this.bytes.length > 0) {
        fromBytes = true;
        event = commandOf(this.bytes[0]!, this.opts.sigq12);
        if (event === undefined) {
          this.bytes.shift();
          continue;
        }
      } else return;
      const row = TABLE[this.state][event];
      if (row === 'defer') return;
      if (event === 'awake') this.awakeDue = false;
      else if (event === 'exited') this.exitPending = false;
      else if (fromBytes) this.bytes.shift();
      this.apply(row);
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
      process.kill(this.pid, sig);
    } catch {
      // The child may have died an instant ago; its exit is on its way.
    }
  }

  private startChild(): void {
    this.paused = false;
    this.when = tai64nNow();
    this.state = 'starting';
    let child: ChildProcess | undefined;
    let failed: unknown;
    const hooks = this.opts.childHooks;
    try {
      const extra = hooks?.prepare();
      const stdio = extra ? [...this.opts.stdio, ...extra.stdio] : this.opts.stdio;
      const env = extra ? { ...this.opts.env, ...extra.env } : this.opts.env;
      child = spawn('./run', [], { cwd: this.base, env, stdio });
    } catch (err) {
      failed = err;
    }
    if (child?.pid !== undefined) {
      const c = child;
      this.child = c;
      this.pid = c.pid!;
      c.once('exit', (_code, signal) => {
        if (c === this.child && !this.finished) hooks?.exited(c.pid!, signal);
        this.onChildExit(c);
      });
      c.on('error', () => {});
      hooks?.started(c);
    } else {
      this.pid = 0;
      if (child) child.on('error', () => {});
      const report = (err: unknown) => {
        this.opts.stderr(`supervise: fatal: unable to start ${this.label}/run: ${errstr(err)}\n`);
      };
      if (failed !== undefined) report(failed);
      else child!.once('error', report);
      // 0.76's child reports the failure and exits 111: the same as a child that died at once.
      this.exitPending = true;
    }
    this.announce();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.awakeDue = true;
      this.pump();
    }, START_PAUSE_MS);
  }

  private onChildExit(c: ChildProcess): void {
    if (c !== this.child || this.finished) return;
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
