import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { errstr } from '../errstr.js';
import { writeStderrBestEffort } from '../fdio.js';
import type { ChildHooks } from '../supervisor.js';
import {
  Arena,
  arenaSize,
  LineEngine,
  LogDir,
  MultilogFatal,
  openStatusFiles,
  parseScript,
  Runtime,
} from '../multilog/index.js';
import { asUser, canActAs, credOf, ownCred, sameCred, type Cred } from './credentials.js';
import { HANDOVER_FD, LineChannel, LOGHOST_FD_ENV, type Hello } from './protocol.js';

/**
 * Descriptors a hosted logger of one directory holds in svscan: its own
 * description of the pipe's read end and `current` (more with more
 * directories or `=FILE`s).
 */
export const HOSTED_LOG_FDS = 2;
/** Output a hosted directory collects before writing (bytes are written at the end of every read anyway). */
const HOSTED_BATCH = 1 << 14;
/** Bytes handed to the engine at a time, as 0.76 reads. */
const C_READ = 1024;

export interface HostedLogOptions {
  /** The read end of the service's log pipe, held by svscan. */
  pipeRead: number;
  /** The log service directory (where `supervise/loghost` records the hand-over). */
  dir: string;
  /** svscan's environment (for the multilog pause override). */
  env: NodeJS.ProcessEnv;
  /** svscan's stderr (where 0.76 multilog's stderr goes under svscan). */
  stderr(text: string): void;
}

/** supervise/loghost: the hand-over svscan accepted, for a restarted svscan. */
interface HandoverRecord {
  pid: number;
  /** Start time of pid (field 22 of /proc/PID/stat), so a reused pid is not taken for it. */
  start: string;
  argv: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
}

function startTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** A logger svscan runs: the script and directories, and who it acts as. */
interface Logger {
  key: string;
  cred: Cred;
  engine: LineEngine;
  dirs: LogDir[];
  statusFds: number[];
}

/**
 * One service's logger hosted by svscan. Each `./run` of the log service is
 * offered a hand-over channel; a multilog of ours at the end of its chain
 * hands its work over and becomes a placeholder (see protocol.ts). While the
 * placeholder runs, svscan reads the pipe and writes the logs; when it dies,
 * svscan stops reading, leaves the directories as a stopped multilog leaves
 * them (current complete, 0744) and keeps the logger (and any partial line)
 * for the next `./run`. SIGALRM (`svc -a`) kills the placeholder: svscan
 * rotates, and supervise starts `./run` again.
 */
export class HostedLog implements ChildHooks {
  private readonly opts: HostedLogOptions;
  private readonly rt: Runtime;
  private logger: Logger | undefined;
  /** pid of the running placeholder this logger works for, or 0. */
  private hostPid = 0;
  /** The child being talked to, and its channel. */
  private pending: { pid: number; channel: LineChannel } | undefined;
  private reader: net.Socket | undefined;
  private closed = false;
  /** A child that died while its hand-over was under way. */
  private diedDuring = 0;
  /** The start-up slot (StartGate) the next `./run` holds until its hand-over is settled. */
  private slot: (() => void) | undefined;

  constructor(opts: HostedLogOptions) {
    this.opts = opts;
    this.rt = new Runtime(opts.stderr, Runtime.pauseFromEnv(opts.env));
  }

  prepare(): { stdio: 'pipe'[]; env: NodeJS.ProcessEnv } {
    return { stdio: ['pipe'], env: { [LOGHOST_FD_ENV]: String(HANDOVER_FD) } };
  }

  /** Gives the next `./run` a start-up slot to release once its hand-over is settled. */
  holdSlot(release: () => void): void {
    this.slot?.();
    this.slot = release;
  }

  /** True while a `./run` started under a start-up slot has not settled its hand-over. */
  get starting(): boolean {
    return this.slot !== undefined && this.pending !== undefined;
  }

  private releaseSlot(): void {
    const r = this.slot;
    this.slot = undefined;
    r?.();
  }

  started(child: ChildProcess): void {
    const socket = child.stdio[HANDOVER_FD] as net.Socket | null | undefined;
    if (!socket || child.pid === undefined) return this.releaseSlot();
    const channel = new LineChannel(socket);
    const pid = child.pid;
    this.pending = { pid, channel };
    if (this.slot) this.watchStartup(pid, channel);
    void this.converse(pid, channel).finally(() => {
      socket.destroy();
      if (this.pending?.channel === channel) this.pending = undefined;
      this.releaseSlot();
    });
  }

  /** Frees the start-up slot early when `./run` has become something other than Node (a C multilog, say): it will not hand over. */
  private watchStartup(pid: number, channel: LineChannel): void {
    const tick = setInterval(() => {
      if (!this.slot || this.pending?.channel !== channel) return clearInterval(tick);
      let exe = '';
      try {
        exe = path.basename(fs.readlinkSync(`/proc/${pid}/exe`));
      } catch {
        exe = '';
      }
      if (!/^(node|nodejs|sh|dash|bash|ash|busybox)$/.test(exe)) {
        clearInterval(tick);
        this.releaseSlot();
      }
    }, 50);
    tick.unref();
  }

  exited(pid: number, signal: NodeJS.Signals | null): void {
    if (this.pending?.pid === pid) {
      this.diedDuring = pid;
      this.releaseSlot();
    }
    if (pid !== this.hostPid) return;
    this.hostPid = 0;
    this.reader?.pause();
    const l = this.logger;
    if (!l) return;
    this.guard(l, () => {
      l.engine.flushAll();
      if (signal === 'SIGALRM') for (const d of l.dirs) d.forceRotate();
      for (const d of l.dirs) d.close();
    });
  }

  /** The service is gone: what is pending ends as at end of input. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.releaseSlot();
    this.pending?.channel.socket.destroy();
    this.retire();
    this.reader?.destroy();
    this.reader = undefined;
  }

  private async converse(pid: number, channel: LineChannel): Promise<void> {
    const hello = (await channel.next()) as Partial<Hello> | undefined;
    if (!hello || hello.hello !== 1 || this.closed) return;
    const refuse = () => channel.send({ reply: 'no' });
    // Only the child itself may hand over; who it is comes from /proc.
    const cred = credOf(pid);
    let cwd: string | undefined;
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      cwd = undefined;
    }
    if (hello.pid !== pid || !cred || !cwd || !Array.isArray(hello.argv) || !canActAs(cred)) return refuse();
    const argv = hello.argv.map(String);
    const key = JSON.stringify([argv, cwd, cred.uid, cred.gid, cred.groups]);
    if (this.hostPid !== 0) return refuse();
    const resume = this.logger?.key === key;
    if (!resume) this.retire();
    channel.send({ reply: resume ? 'resume' : 'start' });
    const ready = (await channel.next()) as { ready?: number } | undefined;
    if (ready?.ready !== 1 || this.closed) return;
    // The placeholder may already be running; it must still be our child's pid.
    if (!resume) {
      const made = this.create(key, cred, argv, cwd);
      if (!made) {
        this.kill(pid);
        return;
      }
      this.logger = made;
    } else if (!this.guard(this.logger!, () => { for (const d of this.logger!.dirs) d.attach(); })) {
      this.kill(pid);
      return;
    }
    if (this.diedDuring === pid) {
      this.guard(this.logger!, () => { for (const d of this.logger!.dirs) d.close(); });
      return;
    }
    this.hostPid = pid;
    this.record(pid);
    this.startReading();
  }

  /**
   * svscan was restarted and its supervisor found `pid` still running as
   * this log service's child: if it is the placeholder of the hand-over
   * recorded in `supervise/loghost` (same pid and start time, same user),
   * the logger goes on from the pipe. A line svscan had half read when it
   * died is lost; complete lines it had read are in `current`.
   */
  adopted(pid: number): boolean {
    let rec: HandoverRecord;
    try {
      rec = JSON.parse(fs.readFileSync(this.recordPath(), 'utf8')) as HandoverRecord;
    } catch {
      return false;
    }
    const cred = credOf(pid);
    if (rec.pid !== pid || rec.start !== startTime(pid) || !cred || !canActAs(cred)) return false;
    if (!sameCred(cred, { uid: rec.uid, gid: rec.gid, groups: rec.groups })) return false;
    const key = JSON.stringify([rec.argv, rec.cwd, cred.uid, cred.gid, cred.groups]);
    this.retire();
    const made = this.create(key, cred, rec.argv, rec.cwd);
    if (!made) return false;
    this.logger = made;
    this.hostPid = pid;
    this.startReading();
    return true;
  }

  private recordPath(): string {
    return `${this.opts.dir}/supervise/loghost`;
  }

  /** What a restarted svscan needs to go on with this logger (see adopted). */
  private record(pid: number): void {
    const l = this.logger!;
    const [argv, cwd] = JSON.parse(l.key) as [string[], string];
    const rec: HandoverRecord = { pid, start: startTime(pid), argv, cwd, uid: l.cred.uid, gid: l.cred.gid, groups: l.cred.groups };
    const file = this.recordPath();
    try {
      fs.writeFileSync(`${file}.new`, JSON.stringify(rec) + '\n', { mode: 0o600 });
      fs.renameSync(`${file}.new`, file);
    } catch (err) {
      this.opts.stderr(`svscan: warning: unable to write ${file}: ${errstr(err)}\n`);
    }
  }

  private create(key: string, cred: Cred, argv: string[], cwd: string): Logger | undefined {
    const script = parseScript(argv);
    const statusFds: number[] = [];
    try {
      return asUser(cred, () => {
        const fds = openStatusFiles(script, cwd);
        for (const fd of fds.values()) statusFds.push(fd);
        const arena = new Arena(arenaSize(0, 0, script.dirs.length, HOSTED_BATCH));
        const processorCred = sameCred(cred, ownCred()) ? undefined : { uid: cred.uid, gid: cred.gid };
        const dirs = script.dirs.map((spec) => new LogDir(spec, cwd, this.rt, arena, { batch: HOSTED_BATCH, processorCred }));
        for (const d of dirs) d.attach();
        const engine = new LineEngine(script, dirs, fds, this.rt, writeStderrBestEffort, arena);
        return { key, cred, engine, dirs, statusFds };
      });
    } catch (err) {
      for (const fd of statusFds) fs.closeSync(fd);
      this.opts.stderr(`multilog: fatal: ${err instanceof MultilogFatal ? err.message : errstr(err)}\n`);
      return undefined;
    }
  }

  /** Ends the current logger: a partial line is completed, the directories are left as a stopped multilog leaves them. */
  private retire(): void {
    const l = this.logger;
    if (!l) return;
    this.logger = undefined;
    this.guard(l, () => {
      const open = l.dirs.filter((d) => !d.attached);
      if (l.engine.midLine) for (const d of open) d.attach();
      l.engine.eof();
      l.engine.flushAll();
      for (const d of l.dirs) if (d.attached) d.close();
    });
    for (const fd of l.statusFds) fs.closeSync(fd);
  }

  private startReading(): void {
    if (!this.reader) {
      let fd: number;
      try {
        // A description of our own: its O_NONBLOCK is not the placeholder's or a later reader's.
        fd = fs.openSync(`/proc/self/fd/${this.opts.pipeRead}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      } catch (err) {
        this.opts.stderr(`svscan: warning: unable to read log pipe: ${errstr(err)}\n`);
        return;
      }
      this.reader = new net.Socket({ fd, readable: true, writable: false });
      this.reader.on('data', (chunk: Buffer) => this.feed(chunk));
      this.reader.on('error', () => {});
      this.reader.on('end', () => this.close());
    }
    this.reader.resume();
  }

  private feed(chunk: Buffer): void {
    const l = this.logger;
    if (!l || this.hostPid === 0) return;
    this.guard(l, () => {
      const n = chunk.length;
      for (let off = 0; off < n; off += C_READ) {
        if (off > 0) l.engine.flushAll();
        l.engine.consume(chunk, off, Math.min(off + C_READ, n));
      }
      // Written through at once: a killed svscan loses no complete line it has read.
      l.engine.flushAll();
      for (const d of l.dirs) d.writeOut();
    });
  }


  /** Runs fn as the logger's user; an unexpected error is reported and ends that logger's placeholder, never svscan. */
  private guard(l: Logger, fn: () => void): boolean {
    try {
      asUser(l.cred, fn);
      return true;
    } catch (err) {
      this.opts.stderr(`multilog: warning: ${err instanceof MultilogFatal ? err.message : errstr(err)}\n`);
      return false;
    }
  }

  private kill(pid: number): void {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
