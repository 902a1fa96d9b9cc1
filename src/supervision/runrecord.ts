import { processStartTime } from '../posix/index.js';
import { errstr } from '../djb/errstr.js';
import { emptyHistory, noteExit, noteStart, writeHistory, type History } from './history.js';
import { notificationFd, ReadinessPipe } from './readiness.js';
import { writeChildRecord } from './sidecar.js';
import { reopenStderrPipe, StderrTee } from './warnings.js';

export interface RunRecordOptions {
  /** The service directory, as `/proc/self/fd/N`. */
  base: string;
  /** supervise's argument, for messages about its files. */
  label: string;
  /** Name in messages about the service's own declarations. */
  title: string;
  /** fds 0, 1, 2 for `./run`. */
  stdio: [number, number, number];
  /** Give `./run` a stderr kept in `supervise/warnings` (loggers). */
  captureStderr: boolean;
  /** Inode of the log pipe, recorded in `supervise/child`. */
  pipeIno: bigint | undefined;
  stderr(line: string): void;
  /** Runs an event handler, an unexpected error being one warning line. */
  guard(what: string, fn: () => void): void;
}

/**
 * What one supervise keeps about its current `./run` besides its status:
 * `supervise/history` (starts, exits, readiness), the readiness pipe of a
 * service that declares notification-fd, a logger's stderr tee
 * (`supervise/warnings`), and `supervise/child` for a successor.
 */
export class RunRecord {
  /** `supervise/history` (history.ts), rewritten at every start, exit and readiness. */
  history: History = emptyHistory(Date.now());
  private readonly o: RunRecordOptions;
  private readiness: ReadinessPipe | undefined;
  private tee: StderrTee | undefined;
  private ended = false;

  constructor(o: RunRecordOptions) {
    this.o = o;
  }

  private get dir(): string {
    return `${this.o.base}/supervise`;
  }

  /**
   * The descriptors of the next `./run`: fds 0-2 (fd 2 the stderr tee for a
   * logger), then the write end of the readiness pipe on the
   * notification-fd the service declares. Every descriptor the child gets
   * beyond 0-2 is added here, and only here.
   */
  childFds(): { stdio: (number | 'ignore')[]; readyFd: number } {
    this.closePipes();
    const stdio: (number | 'ignore')[] = [...this.o.stdio];
    if (this.o.captureStderr) {
      this.tee = new StderrTee(this.dir, this.o.stdio[2], (err) => this.teeFailed(err));
      stdio[2] = this.tee.writeFd;
    }
    const declared = notificationFd(this.o.base);
    if (declared.warning) this.o.stderr(`supervise: warning: ${this.o.title}: ${declared.warning}\n`);
    let readyFd = declared.fd;
    if (readyFd !== 0 && readyFd < stdio.length) {
      this.o.stderr(`supervise: warning: ${this.o.title}: notification-fd ${readyFd} is already in use; readiness is not watched\n`);
      readyFd = 0;
    }
    if (readyFd !== 0) {
      const pipe = new ReadinessPipe(() => this.o.guard('ready', () => this.onReady(pipe)));
      this.readiness = pipe;
      while (stdio.length < readyFd) stdio.push('ignore');
      stdio.push(pipe.writeFd);
    }
    return { stdio, readyFd };
  }

  /** After the spawn (done or failed): the child holds its ends of the pipes, we close ours. */
  closeWriteEnds(): void {
    this.readiness?.closeWriteEnd();
    this.tee?.closeWriteEnd();
  }

  /** A logger's run taken over keeps its stderr pipe read (warnings.ts). */
  adoptStderr(pid: number): void {
    if (!this.o.captureStderr) return;
    const fd = reopenStderrPipe(pid);
    if (fd === undefined) return;
    this.tee = new StderrTee(this.dir, this.o.stdio[2], (err) => this.teeFailed(err), fd);
  }

  noteStart(readyFd: number): void {
    noteStart(this.history, Date.now(), readyFd);
  }

  noteExit(exit: string): void {
    this.closePipes();
    noteExit(this.history, Date.now(), exit);
    this.save();
  }

  /** Rewrites `supervise/history`; a failure costs only the history, so it is a warning. */
  save(): void {
    try {
      writeHistory(this.dir, this.history);
    } catch (err) {
      this.o.stderr(`supervise: warning: unable to write ${this.o.label}/supervise/history: ${errstr(err)}\n`);
    }
  }

  /** Writes `supervise/child` for a successor; a failure costs only the adoption, so it is a warning. */
  writeChild(pid: number, how: 'fast' | 'script', why: string): void {
    try {
      writeChildRecord(this.dir, {
        pid,
        start: processStartTime(pid) ?? 0n,
        pipe: this.o.pipeIno ?? 0n,
        run: how,
        ...(how === 'script' ? { why } : {}),
      });
    } catch (err) {
      this.o.stderr(`supervise: warning: unable to write ${this.o.label}/supervise/child: ${errstr(err)}\n`);
    }
  }

  /** supervise exits: readiness is no longer watched. */
  end(): void {
    this.ended = true;
    this.readiness?.close();
    this.readiness = undefined;
  }

  private onReady(pipe: ReadinessPipe): void {
    if (pipe !== this.readiness || this.ended) return;
    this.readiness = undefined;
    this.history.ready = Date.now();
    this.save();
  }

  /** The readiness pipe of the run that ended; the stderr tee ends by itself when every writer is gone. */
  private closePipes(): void {
    this.readiness?.close();
    this.readiness = undefined;
    this.tee = undefined;
  }

  private teeFailed(err: unknown): void {
    this.o.stderr(`supervise: warning: unable to write ${this.o.label}/supervise/warnings: ${errstr(err)}\n`);
  }
}
