import fs from 'node:fs';
import net from 'node:net';
import { getpwnam, processStartTime, setgid, setgroups, setuid } from '../../posix/index.js';
import { errstr } from '../../djb/errstr.js';
import { writeStderrBestEffort } from '../../djb/fdio.js';
import {
  Arena,
  arenaSize,
  LineEngine,
  LogDir,
  MultilogFatal,
  openStatusFiles,
  parseScript,
  Runtime,
  type Script,
} from '../multilog/index.js';
import type { ProgramIo } from '../program.js';
import { HOST_ENV, HOST_FD, HOST_USER_ENV, MAX_HOSTED_FILES, readLines, send, type Attach } from './protocol.js';

/** Output a hosted directory collects before writing (bytes are written at the end of every read anyway). */
const HOSTED_BATCH = 1 << 14;
/** Bytes handed to the engine at a time, as 0.76 reads. */
const C_READ = 1024;
/** A lock held by someone else is tried again this often, this many times, before start-up fails (0.76 fails at once). */
const LOCK_RETRY_MS = 100;
const LOCK_TRIES = 30;
/** One read of a log pipe (shared by every logger of the host: each read is used up before the next). */
const READ_SIZE = 1 << 16;

/** True when this multilog was started by svscan as a log host (HOST_ENV names fd HOST_FD, a socket). */
export function hostRequested(env: NodeJS.ProcessEnv): boolean {
  if (env[HOST_ENV] !== String(HOST_FD)) return false;
  try {
    return fs.fstatSync(HOST_FD).isSocket();
  } catch {
    return false;
  }
}

/**
 * Becomes the log user before anything else happens, as `setuidgid` does
 * (groups = {gid}, then gid, then uid; real, effective, saved and fs ids),
 * and checks with the kernel that no id of root's is left.
 */
function becomeUser(account: string | undefined): string | undefined {
  if (account !== undefined) {
    const pw = getpwnam(account);
    if (!pw) return `unknown account ${account}`;
    try {
      setgroups([pw.gid]);
      setgid(pw.gid);
      setuid(pw.uid);
    } catch (err) {
      return `unable to become ${account}: ${errstr(err)}`;
    }
    const status = fs.readFileSync('/proc/self/status', 'latin1');
    const ids = (name: string) => status.match(new RegExp(`^${name}:\\t([^\\n]*)$`, 'm'))?.[1]?.trim().split(/\s+/) ?? [];
    const uids = ids('Uid');
    const gids = ids('Gid');
    const groups = ids('Groups').filter((g) => g !== '');
    if (uids.length !== 4 || uids.some((u) => Number(u) !== pw.uid) || gids.length !== 4 || gids.some((g) => Number(g) !== pw.gid) || groups.join() !== String(pw.gid)) {
      return `credentials not dropped to ${account}`;
    }
  }
  return undefined;
}

/**
 * The log host: every logger of one user, with that user's rights. Runs
 * as multilog started by svscan (see protocol.ts). Exits when svscan goes
 * away, after writing what it has read.
 */
export async function runHost(io: ProgramIo): Promise<number> {
  const account = io.env[HOST_USER_ENV];
  delete io.env[HOST_ENV];
  delete io.env[HOST_USER_ENV];
  const why = becomeUser(account);
  if (why !== undefined) {
    io.stderr(`multilog: fatal: log host: ${why}\n`);
    return 111;
  }
  process.umask(0o022);
  // Signals are svscan's business: the placeholder gets them, svscan tells the host.
  for (const sig of ['SIGTERM', 'SIGALRM', 'SIGHUP', 'SIGINT', 'SIGPIPE'] as const) process.on(sig, () => {});
  const socket = new net.Socket({ fd: HOST_FD, readable: true, writable: true });
  const pauseMs = Runtime.pauseFromEnv(io.env);
  const readBuf = Buffer.alloc(READ_SIZE);
  const loggers = new Map<number, HostedLogger>();
  const get = (id: number) => {
    let l = loggers.get(id);
    if (!l) {
      // A logger's messages go through svscan, which prints them and keeps them with that log service (warnings.ts).
      const say = (text: string) => send(socket, { op: 'say', id, text });
      loggers.set(id, (l = new HostedLogger(id, new Runtime(say, pauseMs), readBuf, say, () => send(socket, { op: 'failed', id }))));
    }
    return l;
  };
  const done = new Promise<void>((resolve) => {
    readLines(
      socket,
      (m) => {
        const id = Number(m.id);
        if (!Number.isSafeInteger(id)) return;
        switch (m.op) {
          case 'attach':
            get(id).attach(m as unknown as Attach);
            break;
          case 'stop':
            loggers.get(id)?.stop(m.rotate === true);
            break;
          case 'hold':
            loggers.get(id)?.hold(true);
            break;
          case 'go':
            loggers.get(id)?.hold(false);
            break;
          case 'forget': {
            const l = loggers.get(id);
            loggers.delete(id);
            l?.stop(false);
            break;
          }
        }
      },
      resolve,
    );
  });
  send(socket, { op: 'hello', pid: process.pid });
  await done;
  // svscan is gone: stop reading, write out what was read, leave the directories as a stopped multilog does.
  await Promise.all([...loggers.values()].map((l) => l.stop(false)));
  return 0;
}

/** One hosted logger: a service's logger inside the host. Everything it does is queued in order (`later`). */
class HostedLogger {
  private key = '';
  private script: Script | undefined;
  private engine: LineEngine | undefined;
  private dirs: LogDir[] = [];
  private statusFds: number[] = [];
  private reader: net.Socket | undefined;
  private held = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly id: number,
    private readonly rt: Runtime,
    private readonly readBuf: Buffer,
    private readonly stderr: (text: string) => void,
    private readonly failed: () => void,
  ) {}

  private later(fn: () => Promise<void> | void): Promise<void> {
    this.queue = this.queue.then(fn).catch((err: unknown) => {
      this.stderr(`multilog: warning: ${err instanceof MultilogFatal ? err.message : errstr(err)}\n`);
    });
    return this.queue;
  }

  attach(m: Attach): void {
    void this.later(async () => {
      if (this.reader) return;
      const argv = Array.isArray(m.argv) ? m.argv.map(String) : [];
      const key = JSON.stringify([argv, String(m.cwd)]);
      if (key !== this.key) this.retire();
      const script = (this.script ??= parseScript(argv));
      if (script.dirs.length + script.actions.filter((a) => a.kind === 'status').length > MAX_HOSTED_FILES) {
        this.stderr(`multilog: fatal: too many directories and files for a hosted logger (at most ${MAX_HOSTED_FILES})\n`);
        return this.failed();
      }
      this.key = key;
      const fd = openPipe(m);
      if (fd === undefined) {
        this.stderr('multilog: fatal: unable to read log pipe: the placeholder is gone\n');
        return this.failed();
      }
      try {
        if (!this.engine) {
          const arena = new Arena(arenaSize(0, 0, script.dirs.length, HOSTED_BATCH));
          this.dirs = script.dirs.map((spec) => new LogDir(spec, String(m.cwd), this.rt, arena, { batch: HOSTED_BATCH }));
          this.engine = new LineEngine(script, this.dirs, new Map(), this.rt, writeStderrBestEffort, arena);
        }
        const fds = openStatusFiles(script, String(m.cwd));
        this.statusFds = [...fds.values()];
        this.engine.useStatusFiles(fds);
        for (let tries = 0; ; tries++) {
          try {
            for (const d of this.dirs) await d.open();
            break;
          } catch (err) {
            // The host of an svscan that was just killed may still be writing out and holding the locks.
            if (!(err instanceof MultilogFatal && /^unable to lock directory .*: temporary failure$/.test(err.message)) || tries >= LOCK_TRIES) throw err;
            for (const d of this.dirs) d.release();
            await new Promise((r) => setTimeout(r, LOCK_RETRY_MS));
          }
        }
      } catch (err) {
        // A failed start-up keeps nothing open.
        fs.closeSync(fd);
        this.releaseFiles();
        this.stderr(`multilog: fatal: ${err instanceof MultilogFatal ? err.message : errstr(err)}\n`);
        return this.failed();
      }
      // onread: bytes come straight into readBuf, and a false return stops reading at once (nothing read ahead).
      const options = { fd, readable: true, writable: false, onread: { buffer: this.readBuf, callback: (n: number) => this.feed(n) } };
      this.reader = new net.Socket(options as net.SocketConstructorOpts);
      this.reader.on('error', () => {});
      if (this.held) this.reader.pause();
    });
  }

  /**
   * One read: every byte goes through the engine and is written before the
   * next read (with no fault, before this returns). While anything waits
   * for the disk, this logger's pipe is not read: false pauses it.
   */
  private feed(n: number): boolean {
    const engine = this.engine;
    if (!engine) return false;
    const view = this.readBuf.subarray(0, n);
    for (let off = 0; off < n; off += C_READ) {
      if (off > 0) engine.flushAll();
      engine.consume(view, off, Math.min(off + C_READ, n));
    }
    engine.flushAll();
    for (const d of this.dirs) d.stage();
    if (!engine.unsettled && !this.dirs.some((d) => d.busy)) return !this.held;
    void this.later(async () => {
      await this.settle();
      if (!this.held) this.reader?.resume();
    });
    return false;
  }

  private async settle(): Promise<void> {
    for (const d of this.dirs) await d.drain();
    if (this.engine?.unsettled) await this.engine.settle();
  }

  hold(on: boolean): void {
    this.held = on;
    if (on) this.reader?.pause();
    else void this.later(() => {
      if (!this.held) this.reader?.resume();
    });
  }

  /** The placeholder died: stop reading; rotate first on SIGALRM; leave the directories as a stopped multilog does. */
  stop(rotate: boolean): Promise<void> {
    return this.later(async () => {
      const reader = this.reader;
      this.reader = undefined;
      reader?.destroy();
      const engine = this.engine;
      if (!engine) return;
      engine.flushAll();
      for (const d of this.dirs) d.stage();
      if (rotate) for (const d of this.dirs) if (d.attached) d.forceRotate();
      await this.settle();
      for (const d of this.dirs) await d.close();
      this.releaseFiles();
    });
  }

  private releaseFiles(): void {
    for (const d of this.dirs) d.release();
    for (const fd of this.statusFds.splice(0)) fs.closeSync(fd);
  }

  /** Another script or directory: the old logger ends as at end of input. */
  private retire(): void {
    this.releaseFiles();
    this.engine = undefined;
    this.script = undefined;
    this.dirs = [];
    this.key = '';
  }
}

/** Opens the log pipe through the placeholder, as the log user: undefined unless it is still that process and that pipe. */
function openPipe(m: Attach): number | undefined {
  const pid = Number(m.pid);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const start = String(m.start);
  if (String(processStartTime(pid)) !== start) return undefined;
  let fd: number;
  try {
    fd = fs.openSync(`/proc/${pid}/fd/0`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    // Checked after the open: the process was the placeholder all along, and this is its pipe.
    if (st.isFIFO() && String(st.ino) === String(m.ino) && String(processStartTime(pid)) === start) return fd;
  } catch {
    // fall through
  }
  fs.closeSync(fd);
  return undefined;
}
