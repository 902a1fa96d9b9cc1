import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { bootId, getpwnam, processStartTime } from '../../posix/index.js';
import { ownDir } from '../chain.js';
import { errstr } from '../../djb/errstr.js';
import { parseScript } from '../multilog/index.js';
import type { ChildCommand, ChildHooks } from '../supervisor.js';
import type { HostUser, LogHosts } from './loghosts.js';
import { parseLogScript, resolveLogScript, MAX_LOG_SCRIPT } from './logscript.js';
import { MAX_HOSTED_FILES, PLACEHOLDER_ARGS, PLACEHOLDER_ARGV0, placeholderPath } from './protocol.js';

/** Descriptors svscan itself holds for a hosted logger (the host holds the rest, as the log user). */
export const HOSTED_LOGGER_FDS = 0;

export interface HostedLoggerOptions {
  /** The read end of the service's log pipe (svscan holds both ends). */
  pipeRead: number;
  /** Inode of the service's log pipe (svscan holds both ends). */
  pipeIno: bigint;
  /** The log service directory. */
  dir: string;
  /** svscan's environment (PATH for the commands of `log/run`). */
  env: NodeJS.ProcessEnv;
  stderr(text: string): void;
  hosts: LogHosts;
}

/** What a hosted logger runs as: decided from `log/run` before svscan starts anything. */
interface Plan {
  user: HostUser;
  argv: string[];
  uid: number | undefined;
  gid: number | undefined;
}

/** `supervise/loghost` (named after the log host): the placeholder svscan started, for a restarted svscan. */
interface Record {
  pid: number;
  start: string;
  boot: string;
  account: string | null;
  bundle: string;
  argv: string[];
}

/**
 * svscan's side of one service's logger (the log host's side is
 * `HostedLogger` in loghost.ts): the hooks of the log service's supervisor.
 * When `log/run` is the plain
 * `exec [setuidgid USER] multilog ...` of our commands (logscript.ts),
 * supervise starts a placeholder as USER instead (a sleep named multilog,
 * whose pid svstat shows and svc signals), and the log host of USER does
 * the logging. Any other `log/run` runs as it is, as under C svscan.
 */
export class HostedLoggerHooks implements ChildHooks {
  private readonly id: number;
  private plan: Plan | undefined;
  /** The placeholder now running, or 0. */
  private pid = 0;
  /** The last signal supervise sent it (tells what an adopted placeholder died of). */
  private lastSignal: NodeJS.Signals | undefined;
  private closed = false;

  constructor(private readonly opts: HostedLoggerOptions) {
    this.id = opts.hosts.newId();
  }

  /** Decides, from `log/run` alone, whether this start is hosted, and as whom. */
  prepare(): ChildCommand | undefined {
    this.plan = this.closed ? undefined : this.planFromScript();
    if (!this.plan) return undefined;
    if (this.plan.uid !== undefined) {
      // The host reopens the pipe through the placeholder as the log user: the pipe (made by svscan) must be theirs.
      try {
        fs.fchownSync(this.opts.pipeRead, this.plan.uid, this.plan.gid!);
      } catch (err) {
        this.opts.stderr(`svscan: warning: unable to give the log pipe to ${this.plan.user.account}: ${errstr(err)}\n`);
        this.plan = undefined;
        return undefined;
      }
    }
    const sleep = placeholderPath()!;
    return { file: sleep, args: PLACEHOLDER_ARGS, argv0: PLACEHOLDER_ARGV0, uid: this.plan.uid, gid: this.plan.gid };
  }

  private planFromScript(): Plan | undefined {
    if (placeholderPath() === undefined) return undefined;
    let text: string;
    let fd = -1;
    try {
      // Never blocks (a FIFO named run), never reads much.
      fd = fs.openSync(`${this.opts.dir}/run`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
      const st = fs.fstatSync(fd);
      if (!st.isFile() || (st.mode & 0o111) === 0 || st.size > MAX_LOG_SCRIPT) return undefined;
      const buf = Buffer.alloc(MAX_LOG_SCRIPT + 1);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      text = buf.toString('latin1', 0, n);
    } catch {
      return undefined;
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
    const parsed = parseLogScript(text);
    if (!parsed) return undefined;
    const resolved = resolveLogScript(parsed, this.opts.env.PATH, ownDir(process.argv[1]));
    if (!resolved) return undefined;
    const script = parseScript(resolved.multilogArgs);
    if (script.dirs.length + script.actions.filter((a) => a.kind === 'status').length > MAX_HOSTED_FILES) return undefined;
    const user: HostUser = { account: resolved.user, bundle: resolved.multilogPath };
    if (!this.opts.hosts.canHost(user)) return undefined;
    if (resolved.user === undefined) return { user, argv: resolved.multilogArgs, uid: undefined, gid: undefined };
    // Only root can become someone: otherwise setuidgid fails, and that is for ./run to say.
    if (process.geteuid?.() !== 0) return undefined;
    const pw = getpwnam(resolved.user);
    if (!pw) return undefined;
    return { user, argv: resolved.multilogArgs, uid: pw.uid, gid: pw.gid };
  }

  started(child: ChildProcess): void {
    const plan = this.plan;
    if (!plan || child.pid === undefined) return;
    this.pid = child.pid;
    this.lastSignal = undefined;
    const start = processStartTime(child.pid);
    if (start === undefined) return;
    this.record({ pid: child.pid, start: String(start), boot: bootId(), account: plan.user.account ?? null, bundle: plan.user.bundle, argv: plan.argv });
    this.attach(plan, child.pid, start);
  }

  private attach(plan: Plan, pid: number, start: bigint): void {
    let cwd: string;
    try {
      cwd = fs.realpathSync(this.opts.dir);
    } catch (err) {
      this.opts.stderr(`svscan: warning: unable to find ${this.opts.dir}: ${errstr(err)}\n`);
      return;
    }
    this.opts.hosts.attach(plan.user, { op: 'attach', id: this.id, pid, start: String(start), ino: String(this.opts.pipeIno), argv: plan.argv, cwd });
  }

  /**
   * svscan was restarted and the supervisor found `pid` still running: if
   * it is the placeholder recorded in `supervise/loghost` (this boot, same
   * start time, still the placeholder program), its logger goes on.
   */
  adopted(pid: number): void {
    let rec: Record;
    try {
      rec = JSON.parse(fs.readFileSync(this.recordPath(), 'utf8')) as Record;
    } catch {
      return;
    }
    const start = processStartTime(pid);
    if (rec.pid !== pid || start === undefined || rec.start !== String(start) || rec.boot !== bootId() || bootId() === '') return;
    try {
      if (fs.realpathSync(`/proc/${pid}/exe`) !== fs.realpathSync(placeholderPath() ?? '/')) return;
    } catch {
      return;
    }
    const plan: Plan = { user: { account: rec.account ?? undefined, bundle: String(rec.bundle) }, argv: (rec.argv ?? []).map(String), uid: undefined, gid: undefined };
    this.plan = plan;
    this.pid = pid;
    this.lastSignal = undefined;
    this.attach(plan, pid, start);
  }

  signalled(pid: number, sig: NodeJS.Signals): void {
    if (pid !== this.pid) return;
    this.lastSignal = sig;
    // svc -p / -c: C's multilog stops and goes on; the placeholder does, and so does the logging.
    if (sig === 'SIGSTOP') this.opts.hosts.hold(this.id, true);
    if (sig === 'SIGCONT') this.opts.hosts.hold(this.id, false);
  }

  exited(pid: number, signal: NodeJS.Signals | null): void {
    if (pid !== this.pid) return;
    this.pid = 0;
    const sig = signal ?? this.lastSignal;
    this.opts.hosts.stop(this.id, sig === 'SIGALRM');
  }

  /** A line of this logger's multilog (from its host): printed and kept as the logger's warning. */
  say(text: string): void {
    this.opts.stderr(text);
  }

  /** The placeholder of a logger whose start-up failed: ended, so that supervise starts it again (as multilog exiting 111). */
  kill(): void {
    if (this.pid === 0) return;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }

  /** True when the log service's process now is a placeholder (no Node start to wait for). */
  get hosting(): boolean {
    return this.pid !== 0;
  }

  get hostedId(): number {
    return this.id;
  }

  /** The service is gone. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.hosts.forget(this.id);
  }

  private recordPath(): string {
    return `${this.opts.dir}/supervise/loghost`;
  }

  private record(rec: Record): void {
    const file = this.recordPath();
    try {
      fs.writeFileSync(`${file}.new`, JSON.stringify(rec) + '\n', { mode: 0o644 });
      fs.renameSync(`${file}.new`, file);
    } catch (err) {
      this.opts.stderr(`svscan: warning: unable to write ${file}: ${errstr(err)}\n`);
    }
  }
}
