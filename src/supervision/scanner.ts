import fs from 'node:fs';
import { getrlimit, O_CLOEXEC, pipe2, RLIMIT, setNonblock } from '../posix/index.js';
import { errcode, errstr } from '../djb/errstr.js';
import { HOSTED_LOGGER_FDS, HostedLoggerHooks } from './hosted/logger.js';
import { LogHosts } from './hosted/loghosts.js';
import { readChildRecord, stillRunning } from './sidecar.js';
import { WarningRecorder } from './warnings.js';
import { STDERR_TEE_FDS, SUPERVISOR_FDS, SuperviseFatal, Supervisor, type ChildHooks } from './supervisor.js';

/** svscan's limit on services, as 0.76. */
export const MAX_SERVICES = 1000;
/** Names longer than this get no `log` check (0.76's buffer size). */
const MAX_LOG_NAME = 255;
/**
 * Descriptors kept free for the work of services already supervised:
 * restarting a child (spawn's own pipe), writing a status, reading the
 * scanned directory. New services are refused before they would eat into it.
 */
export const RESERVE_FDS = 16;
/** Descriptors of a log pipe held by svscan (both ends). */
export const PIPE_FDS = 2;

export interface ScannerOptions {
  /** The scanned directory (an absolute path; svscan passes `/proc/self/fd/N`). */
  dir: string;
  /** Environment for every `./run`. */
  env: NodeJS.ProcessEnv;
  sigq12: boolean;
  /** Prints one complete line on svscan's stderr. */
  stderr(line: string): void;
  /** Descriptor limit to plan with; default: this process's RLIMIT_NOFILE soft limit as it is now. */
  fdLimit?: number;
}

interface Entry {
  name: string;
  active: boolean;
  /** [read, write] of the log pipe, held for the life of the entry. */
  pipe: [number, number] | undefined;
  /** Inode of that pipe (recorded by both supervisors so that a restarted svscan can find it). */
  pipeIno: bigint;
  /** The pipe was reopened from a `./run` that outlived the previous svscan. */
  pipeReopened: boolean;
  main: Supervisor | undefined;
  log: Supervisor | undefined;
  /** The logger svscan hosts for this service (hosted/logger.ts), when it has a log pipe. */
  host: HostedLoggerHooks | undefined;
}

/** How many services fit in the descriptor limit, as svscan reports at start-up. */
export interface FdBudget {
  limit: number;
  /** Descriptors open before any service. */
  base: number;
  /** Services without a logger that fit (at most MAX_SERVICES). */
  services: number;
  /** Services with a logger that fit. */
  logged: number;
}

/**
 * svscan's bookkeeping: one entry per service directory identity
 * (st_dev, st_ino), with the in-process supervisors 0.76 would have forked
 * as `supervise NAME` and `supervise log`.
 *
 * Descriptors are counted: each supervisor holds SUPERVISOR_FDS, each log
 * pipe PIPE_FDS, and RESERVE_FDS stay free so that what is supervised keeps
 * being restarted. A service that does not fit gets one warning a scan.
 */
export class Scanner {
  private readonly opts: ScannerOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly hosted = new Map<number, HostedLoggerHooks>();
  private readonly hosts: LogHosts;
  readonly budget: FdBudget;
  /** Descriptors held by supervisors and pipes now. */
  private held = 0;

  constructor(opts: ScannerOptions) {
    this.opts = opts;
    this.hosts = new LogHosts({ env: opts.env, stderr: opts.stderr, failed: (id) => this.hosted.get(id)?.kill(), say: (id, text) => this.hosted.get(id)?.say(text) });
    const limit = opts.fdLimit ?? nofileLimit();
    const base = openFdCount();
    const room = Math.max(0, limit - base - RESERVE_FDS);
    this.budget = {
      limit,
      base,
      services: Math.min(MAX_SERVICES, Math.floor(room / SUPERVISOR_FDS)),
      logged: Math.min(MAX_SERVICES, Math.floor(room / (2 * SUPERVISOR_FDS + STDERR_TEE_FDS + PIPE_FDS + HOSTED_LOGGER_FDS))),
    };
  }

  /** Number of services currently known. */
  get size(): number {
    return this.entries.size;
  }

  /** One pass of 0.76's scan: start what is new or has stopped, forget what is gone. */
  scan(): void {
    const warn = (text: string) => this.opts.stderr(`svscan: warning: ${text}\n`);
    let names: string[];
    try {
      names = fs.readdirSync(this.opts.dir);
    } catch (err) {
      warn(`unable to read directory: ${errstr(err)}`);
      return;
    }
    for (const e of this.entries.values()) e.active = false;
    for (const name of names) {
      if (name.startsWith('.')) continue;
      try {
        this.scanOne(name, warn);
      } catch (err) {
        // One service's fault is reported and the scan goes on with the others.
        const text = err instanceof Error ? err.message : String(err);
        warn(`internal error while scanning ${name}: ${text.split('\n')[0]}`);
      }
    }
    for (const [key, e] of this.entries) {
      if (e.active || e.main || e.log) continue;
      if (e.pipe) {
        e.host?.close();
        if (e.host) this.hosted.delete(e.host.hostedId);
        for (const fd of e.pipe) fs.closeSync(fd);
        this.held -= PIPE_FDS + HOSTED_LOGGER_FDS + STDERR_TEE_FDS;
      }
      this.entries.delete(key);
    }
  }

  private room(): number {
    return this.budget.limit - this.budget.base - RESERVE_FDS - this.held;
  }

  private scanOne(name: string, warn: (text: string) => void): void {
    const path = `${this.opts.dir}/${name}`;
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(path, { bigint: true });
    } catch (err) {
      warn(`unable to stat ${name}: ${errstr(err)}`);
      return;
    }
    if (!st.isDirectory()) return;
    const key = `${st.dev}:${st.ino}`;
    let entry = this.entries.get(key);
    if (!entry) {
      if (this.entries.size >= MAX_SERVICES) {
        warn(`unable to start ${name}: running too many services`);
        return;
      }
      let hasLog = false;
      if (name.length <= MAX_LOG_NAME) {
        try {
          fs.statSync(`${path}/log`);
          hasLog = true;
        } catch (err) {
          if (errcode(err) !== 'ENOENT') {
            warn(`unable to stat ${name}/log: ${errstr(err)}`);
            return;
          }
        }
      }
      const need = hasLog ? 2 * SUPERVISOR_FDS + STDERR_TEE_FDS + PIPE_FDS + HOSTED_LOGGER_FDS : SUPERVISOR_FDS;
      if (need > this.room()) {
        warn(`unable to start ${name}: descriptor limit ${this.budget.limit} reached`);
        return;
      }
      let pipe: [number, number] | undefined;
      let pipeReopened = false;
      if (hasLog) {
        pipe = survivingPipe(path);
        pipeReopened = pipe !== undefined;
        if (!pipe) {
          try {
            pipe = pipe2(O_CLOEXEC);
          } catch (err) {
            warn(`unable to create pipe for ${name}: ${errstr(err)}`);
            return;
          }
        }
        this.held += PIPE_FDS + HOSTED_LOGGER_FDS + STDERR_TEE_FDS;
      }
      const pipeIno = pipe ? fs.fstatSync(pipe[0], { bigint: true }).ino : 0n;
      // A hosted logger's warnings are kept as a logger child's are (warnings.ts); a failed write leaves them on svscan's stderr only.
      const recorder = new WarningRecorder(`${path}/log/supervise`, () => {});
      const logStderr = (text: string): void => {
        this.opts.stderr(text);
        recorder.add(text);
      };
      const host = pipe ? new HostedLoggerHooks({ pipeRead: pipe[0], pipeIno, dir: `${path}/log`, env: this.opts.env, stderr: logStderr, hosts: this.hosts }) : undefined;
      if (host) this.hosted.set(host.hostedId, host);
      entry = { name, active: false, pipe, pipeIno, pipeReopened, main: undefined, log: undefined, host };
      this.entries.set(key, entry);
    }
    entry.active = true;
    const e = entry;
    if (!e.main) {
      e.main = this.supervise(path, name, name, [0, e.pipe ? e.pipe[1] : 1, 2], e.pipeIno, () => (e.main = undefined));
    }
    if (e.pipe && !e.log) {
      // A hosted logger's start is a placeholder (a sleep), not a Node start: no need to start them a few at a time.
      e.log = this.supervise(`${path}/log`, 'log', `${name}/log`, [e.pipe[0], 1, 2], e.pipeIno, () => (e.log = undefined), e.host, true);
    }
  }

  private supervise(
    dir: string,
    label: string,
    title: string,
    stdio: [number, number, number],
    pipeIno: bigint,
    onExit: () => void,
    childHooks?: ChildHooks,
    captureStderr = false,
  ): Supervisor | undefined {
    if (SUPERVISOR_FDS > this.room()) {
      this.opts.stderr(`svscan: warning: unable to start ${title}: descriptor limit ${this.budget.limit} reached\n`);
      return undefined;
    }
    try {
      const sup = Supervisor.start({
        dir,
        label,
        title,
        env: this.opts.env,
        stdio,
        pipeIno: pipeIno === 0n ? undefined : pipeIno,
        sigq12: this.opts.sigq12,
        stderr: this.opts.stderr,
        childHooks,
        captureStderr,
      });
      this.held += SUPERVISOR_FDS;
      void sup.exited.then(() => {
        this.held -= SUPERVISOR_FDS;
        onExit();
      });
      return sup;
    } catch (err) {
      // A supervise that cannot start says why on svscan's stderr and is tried again next scan.
      if (err instanceof SuperviseFatal) this.opts.stderr(err.line);
      else {
        const why = errcode(err) !== undefined ? errstr(err) : `internal error: ${err instanceof Error ? err.message : String(err)}`;
        this.opts.stderr(`svscan: warning: unable to start supervise ${title}: ${why.split('\n')[0]}\n`);
      }
      return undefined;
    }
  }
}

/** RLIMIT_NOFILE's soft limit as this process has it now (Node raised it to the hard limit at start-up). */
function nofileLimit(): number {
  try {
    const { cur } = getrlimit(RLIMIT.NOFILE);
    return cur > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(cur);
  } catch {
    return 1024;
  }
}

function openFdCount(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/**
 * The log pipe of a service pair that outlived the previous svscan, opened
 * again (both ends) through `/proc/PID/fd/N` of the service (fd 1) or of its
 * logger (fd 0), provided that process is still the recorded one and the
 * descriptor is still the recorded pipe. undefined when neither survives:
 * the caller makes a new pipe.
 */
function survivingPipe(path: string): [number, number] | undefined {
  const holders: [string, number][] = [
    [`${path}/supervise`, 1],
    [`${path}/log/supervise`, 0],
  ];
  for (const [dir, fd] of holders) {
    const rec = readChildRecord(dir);
    if (!rec || rec.pipe === 0n || !stillRunning(rec)) continue;
    const link = `/proc/${rec.pid}/fd/${fd}`;
    try {
      const st = fs.statSync(link, { bigint: true });
      if (!st.isFIFO() || st.ino !== rec.pipe) continue;
    } catch {
      continue;
    }
    const opened: number[] = [];
    try {
      // Read end first: a non-blocking write-open of a pipe needs a reader.
      opened.push(fs.openSync(link, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
      opened.push(fs.openSync(link, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
      for (const o of opened) setNonblock(o, false);
      return [opened[0]!, opened[1]!];
    } catch {
      for (const o of opened) fs.closeSync(o);
    }
  }
  return undefined;
}
