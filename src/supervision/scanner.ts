import fs from 'node:fs';
import { O_CLOEXEC, pipe2 } from '../posix/index.js';
import { errcode, errstr } from './errstr.js';
import { StartGate } from './loghost/gate.js';
import { HostedLog } from './loghost/host.js';
import { SuperviseFatal, Supervisor, type ChildHooks } from './supervisor.js';

/** svscan's limit on services, as 0.76. */
export const MAX_SERVICES = 1000;
/** Names longer than this get no `log` check (0.76's buffer size). */
const MAX_LOG_NAME = 255;

export interface ScannerOptions {
  /** The scanned directory (an absolute path; svscan passes `/proc/self/fd/N`). */
  dir: string;
  /** Environment for every `./run`. */
  env: NodeJS.ProcessEnv;
  sigq12: boolean;
  /** Prints one complete line on svscan's stderr. */
  stderr(line: string): void;
}

interface Entry {
  name: string;
  active: boolean;
  /** [read, write] of the log pipe, held for the life of the entry. */
  pipe: [number, number] | undefined;
  main: Supervisor | undefined;
  log: Supervisor | undefined;
  /** The logger svscan hosts for this service (loghost/), when it has a log pipe. */
  host: HostedLog | undefined;
  /** Waiting for a start-up slot for its log service. */
  logQueued: boolean;
}

/**
 * svscan's bookkeeping: one entry per service directory identity
 * (st_dev, st_ino), with the in-process supervisors 0.76 would have forked
 * as `supervise NAME` and `supervise log`.
 */
export class Scanner {
  private readonly opts: ScannerOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly logGate = new StartGate();

  constructor(opts: ScannerOptions) {
    this.opts = opts;
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
      const path = `${this.opts.dir}/${name}`;
      let st: fs.BigIntStats;
      try {
        st = fs.statSync(path, { bigint: true });
      } catch (err) {
        warn(`unable to stat ${name}: ${errstr(err)}`);
        continue;
      }
      if (!st.isDirectory()) continue;
      const key = `${st.dev}:${st.ino}`;
      let entry = this.entries.get(key);
      if (!entry) {
        if (this.entries.size >= MAX_SERVICES) {
          warn(`unable to start ${name}: running too many services`);
          continue;
        }
        let hasLog = false;
        if (name.length <= MAX_LOG_NAME) {
          try {
            fs.statSync(`${path}/log`);
            hasLog = true;
          } catch (err) {
            if (errcode(err) !== 'ENOENT') {
              warn(`unable to stat ${name}/log: ${errstr(err)}`);
              continue;
            }
          }
        }
        let pipe: [number, number] | undefined;
        if (hasLog) {
          try {
            pipe = pipe2(O_CLOEXEC);
          } catch (err) {
            warn(`unable to create pipe for ${name}: ${errstr(err)}`);
            continue;
          }
        }
        const host = pipe ? new HostedLog({ pipeRead: pipe[0], dir: `${path}/log`, env: this.opts.env, stderr: this.opts.stderr }) : undefined;
        entry = { name, active: false, pipe, main: undefined, log: undefined, host, logQueued: false };
        this.entries.set(key, entry);
      }
      entry.active = true;
      const e = entry;
      if (!e.main) {
        e.main = this.supervise(`${path}`, name, [0, e.pipe ? e.pipe[1] : 1, 2], () => (e.main = undefined));
      }
      if (e.pipe && !e.log && !e.logQueued) {
        // Log services start a few at a time (see StartGate); the others wait for a slot, not for the next scan.
        e.logQueued = true;
        this.logGate.admit((release) => {
          e.logQueued = false;
          if (!e.pipe || e.log || this.entries.get(key) !== e) return release();
          e.host?.holdSlot(release);
          e.log = this.supervise(`${path}/log`, 'log', [e.pipe[0], 1, 2], () => (e.log = undefined), e.host);
          if (!e.log) release();
        });
      }
    }
    for (const [key, e] of this.entries) {
      if (e.active || e.main || e.log) continue;
      e.host?.close();
      if (e.pipe) for (const fd of e.pipe) fs.closeSync(fd);
      this.entries.delete(key);
    }
  }

  private supervise(
    dir: string,
    label: string,
    stdio: [number, number, number],
    onExit: () => void,
    childHooks?: ChildHooks,
  ): Supervisor | undefined {
    try {
      const sup = Supervisor.start({ dir, label, env: this.opts.env, stdio, sigq12: this.opts.sigq12, stderr: this.opts.stderr, childHooks });
      void sup.exited.then(onExit);
      return sup;
    } catch (err) {
      // A supervise that cannot start says why on svscan's stderr and is tried again next scan.
      if (err instanceof SuperviseFatal) this.opts.stderr(err.line);
      else this.opts.stderr(`svscan: warning: unable to start supervise ${label}: ${errstr(err)}\n`);
      return undefined;
    }
  }
}
