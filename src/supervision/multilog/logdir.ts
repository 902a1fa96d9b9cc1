import fs from 'node:fs';
import path from 'node:path';
import { tryLockExclusive } from '../../posix/index.js';
import { errcode, errstr } from '../../djb/errstr.js';
import type { Arena } from './arena.js';
import type { CrashCause } from './processor.js';
import { archive, retry, rotateFiles, type RotatingDir } from './rotate.js';
import { MultilogFatal, type Runtime } from './runtime.js';
import type { DirSpec } from './script.js';

const { O_WRONLY, O_RDONLY, O_APPEND, O_CREAT, O_TRUNC, O_NONBLOCK } = fs.constants;
/** djb's open_append / open_trunc / open_read. */
const OPEN_APPEND = O_WRONLY | O_NONBLOCK | O_APPEND | O_CREAT;
const OPEN_TRUNC = O_WRONLY | O_NONBLOCK | O_TRUNC | O_CREAT;
const OPEN_READ = O_RDONLY | O_NONBLOCK;

/** Size of 0.76's per-directory output buffer: it decides where files are cut. */
export const C_BUFFER = 512;
/** Bytes a size-triggered rotation may leave unused at the end of a file. */
export const CUT_WINDOW = 2000;
/** Bytes of output a directory collects before writing them out. */
export const BATCH = 1 << 18;

export type { CrashCause } from './processor.js';

/** Work waiting for the disk: bytes for `current`, or a rotation. */
type Op = Buffer | { rotate: CrashCause };

function sysError(code: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(code);
  e.code = code;
  return e;
}

/**
 * One multilog log directory, in two layers.
 *
 * The logical layer is synchronous: bytes pass through an emulation of
 * 0.76's 512-byte buffer and its write function (`c_write`), so files are
 * cut at exactly the byte offsets C cuts them. Invariant: `buf[0,
 * committed)` has been accepted by the emulated `c_write` but not yet
 * staged; `buf[committed, end)` is the emulated C buffer (at most 512
 * bytes, or one line about to be written whole).
 *
 * The physical layer is asynchronous: staged bytes and rotations are
 * queued and done in order by `drain()`. With no fault the bytes are
 * written at once; an error gives 0.76's warning and a pause that is a
 * timer, processors are child processes waited for without blocking, so a
 * process hosting many loggers never stalls for one. The owner reads no
 * more input for this directory until `drain()` has resolved (that is the
 * backpressure C gets from blocking). The rotation on disk, the archives
 * and the processor are in rotate.ts and processor.ts.
 */
export class LogDir {
  readonly name: string;
  readonly size: number;
  readonly num: number;
  readonly processor: string | undefined;
  readonly abs: string;
  /** Selection of the line being processed. */
  selected = true;
  /** Bytes accepted into the logical `current`. */
  bytes = 0;
  private fd = -1;
  private lockFd = -1;
  private readonly buf: Buffer;
  private committed = 0;
  private end = 0;
  private readonly batch: number;
  private readonly ops: Op[] = [];
  /** A write that failed in `stage`: the pause it owes comes first in `drain`. */
  private failed: unknown;
  private draining: Promise<void> | undefined;

  constructor(
    spec: DirSpec,
    startDir: string,
    private readonly rt: Runtime,
    private readonly arena: Arena,
    opts: { batch?: number } = {},
  ) {
    this.batch = opts.batch ?? BATCH;
    this.buf = arena.take(this.batch);
    this.name = spec.name;
    this.size = spec.size;
    this.num = spec.num;
    this.processor = spec.processor;
    this.abs = path.resolve(startDir, spec.name);
  }

  private file(name: string): string {
    return path.join(this.abs, name);
  }

  /** Startup (0.76 `restart`): create, lock, recover after an unclean stop. */
  async open(): Promise<void> {
    this.lock();
    await this.recover();
  }

  /** First half of 0.76 `restart`: create the directory if need be, check it, take `lock`. */
  lock(): void {
    const name = this.name;
    try {
      fs.mkdirSync(this.abs, 0o700);
    } catch {
      // 0.76 ignores mkdir errors; the open below reports what matters.
    }
    try {
      const fd = fs.openSync(this.abs, OPEN_READ);
      try {
        if (!fs.fstatSync(fd).isDirectory()) throw sysError('ENOTDIR');
      } finally {
        fs.closeSync(fd);
      }
      fs.accessSync(this.abs, fs.constants.X_OK);
    } catch (err) {
      throw new MultilogFatal(`unable to open directory ${name}: ${errstr(err)}`);
    }
    try {
      this.lockFd = fs.openSync(this.file('lock'), OPEN_APPEND, 0o600);
      if (!tryLockExclusive(this.lockFd)) throw sysError('EAGAIN');
    } catch (err) {
      throw new MultilogFatal(`unable to lock directory ${name}: ${errstr(err)}`);
    }
  }

  /** Second half of 0.76 `restart`: append to a complete `current`, or salvage an unclean stop. */
  private async recover(): Promise<void> {
    const name = this.name;
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(this.file('current'));
    } catch (err) {
      if (errcode(err) !== 'ENOENT') throw new MultilogFatal(`unable to stat ${name}/current: ${errstr(err)}`);
    }
    if (st && (st.mode & 0o100) !== 0) {
      try {
        this.fd = fs.openSync(this.file('current'), OPEN_APPEND, 0o600);
      } catch (err) {
        throw new MultilogFatal(`unable to append to ${name}/current: ${errstr(err)}`);
      }
      this.fchmodCurrentOrDie(0o644);
      this.bytes = st.size;
      return;
    }

    this.unlinkQuietly('state');
    this.unlinkQuietly('newstate');
    let processedDone = false;
    try {
      processedDone = (fs.statSync(this.file('processed')).mode & 0o100) !== 0;
    } catch (err) {
      if (errcode(err) !== 'ENOENT') throw new MultilogFatal(`unable to stat ${name}/processed: ${errstr(err)}`);
    }
    if (processedDone) {
      this.unlinkQuietly('previous');
      await this.finish('processed', 's');
    } else {
      this.unlinkQuietly('processed');
      await this.finish('previous', 'u');
    }
    await this.finish('current', 'u');

    try {
      fs.closeSync(fs.openSync(this.file('state'), OPEN_TRUNC, 0o644));
    } catch (err) {
      throw new MultilogFatal(`unable to write to ${name}/state: ${errstr(err)}`);
    }
    try {
      this.fd = fs.openSync(this.file('current'), OPEN_APPEND, 0o600);
    } catch (err) {
      throw new MultilogFatal(`unable to write to ${name}/current: ${errstr(err)}`);
    }
    this.fchmodCurrentOrDie(0o644);
    this.bytes = 0;
  }

  private fchmodCurrentOrDie(mode: number): void {
    try {
      fs.fchmodSync(this.fd, mode);
    } catch (err) {
      throw new MultilogFatal(`unable to set mode of ${this.name}/current: ${errstr(err)}`);
    }
  }

  /** This directory as rotate.ts sees it; `fd` is this one's descriptor of `current`. */
  private rotating(): RotatingDir {
    const self = this;
    return {
      name: this.name,
      abs: this.abs,
      num: this.num,
      processor: this.processor,
      rt: this.rt,
      get fd() {
        return self.fd;
      },
      set fd(fd: number) {
        self.fd = fd;
      },
    };
  }

  /** 0.76 `finish`: archive FILE as `@<tai64n>.CODE`, then trim to at most num-1 archives (rotate.ts). */
  finish(file: string, code: string): Promise<void> {
    return archive(this.rotating(), file, code);
  }

  private unlinkQuietly(file: string): void {
    try {
      fs.unlinkSync(this.file(file));
    } catch {
      // absent is the usual case
    }
  }

  // ---- the emulated 512-byte buffer (djb buffer_put / buffer_PUTC / buffer_flush)

  private append(src: Uint8Array, start: number, len: number): void {
    if (this.end + len > this.batch) this.stage();
    this.arena.copy(src, start, len, this.buf, this.end);
    this.end += len;
  }

  /** buffer_put of one line (at most 1000 bytes): `head` (a timestamp, may be empty) then `src[start, start+len)`. */
  putLine(head: Uint8Array, src: Uint8Array, start: number, len: number): void {
    const total = head.length + len;
    const p = this.end - this.committed;
    if (total > C_BUFFER - p) {
      if (p > 0) this.commit(p);
      if (total > C_BUFFER) {
        if (head.length > 0) this.append(head, 0, head.length);
        this.append(src, start, len);
        this.commit(total);
        return;
      }
    }
    if (head.length > 0) this.append(head, 0, head.length);
    this.append(src, start, len);
  }

  /** buffer_PUTC, once per byte of `src[start, start+len)`. */
  putBytes(src: Uint8Array, start: number, len: number): void {
    while (len > 0) {
      let p = this.end - this.committed;
      if (p === C_BUFFER) {
        this.commit(C_BUFFER);
        p = 0;
      }
      const n = Math.min(len, C_BUFFER - p);
      this.append(src, start, n);
      start += n;
      len -= n;
    }
  }

  putNewline(): void {
    if (this.end - this.committed === C_BUFFER) this.commit(C_BUFFER);
    if (this.end + 1 > this.batch) this.stage();
    this.buf[this.end++] = 10;
  }

  /** buffer_flush: hand the emulated buffer to c_write. */
  flush(): void {
    const p = this.end - this.committed;
    if (p > 0) this.commit(p);
  }

  /** 0.76 `c_write`, called until the whole chunk is taken. */
  private commit(total: number): void {
    let remaining = total;
    while (remaining > 0) {
      if (this.bytes >= this.size) this.cut();
      let len = remaining;
      if (len >= this.size - this.bytes) len = this.size - this.bytes;
      if (this.bytes + len >= this.size - CUT_WINDOW) {
        const nl = this.buf.lastIndexOf(10, this.committed + len - 1);
        if (nl >= this.committed) len = nl - this.committed + 1;
      }
      this.committed += len;
      this.bytes += len;
      remaining -= len;
      if (this.bytes >= this.size - CUT_WINDOW && this.buf[this.committed - 1] === 10) this.cut();
    }
  }

  /**
   * Hands every accepted byte to the physical layer: written at once when
   * nothing is queued before them, else queued (see drain).
   */
  stage(): void {
    const n = this.committed;
    if (n === 0) return;
    let off = 0;
    if (this.ops.length === 0 && this.draining === undefined && this.failed === undefined && this.fd >= 0) {
      try {
        while (off < n) off += fs.writeSync(this.fd, this.buf, off, n - off);
      } catch (err) {
        this.failed = err;
      }
    }
    if (off < n) this.ops.push(Buffer.from(this.buf.subarray(off, n)));
    if (this.end > n) this.buf.copyWithin(0, n, this.end);
    this.end -= n;
    this.committed = 0;
  }

  /** The logical rotation (cut points are decided here); the files follow in drain. */
  private cut(cause: CrashCause = 'ENOENT'): void {
    this.stage();
    this.ops.push({ rotate: cause });
    this.bytes = 0;
  }

  /** True while staged work waits for the disk. */
  get busy(): boolean {
    return this.ops.length > 0 || this.failed !== undefined || this.draining !== undefined;
  }

  /** Does the queued work in order, pausing (a timer) on each error as 0.76 does; resolves when nothing is left. */
  async drain(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.ops.length === 0 && this.failed === undefined) return;
    this.draining = this.work();
    try {
      await this.draining;
    } finally {
      this.draining = undefined;
    }
  }

  private async work(): Promise<void> {
    if (this.failed !== undefined) {
      const err = this.failed;
      this.failed = undefined;
      await this.rt.pause(`unable to write to ${this.name}/current`, err);
    }
    for (;;) {
      const op = this.ops[0];
      if (op === undefined) return;
      if (Buffer.isBuffer(op)) {
        let off = 0;
        while (off < op.length) {
          try {
            off += fs.writeSync(this.fd, op, off, op.length - off);
          } catch (err) {
            await this.rt.pause(`unable to write to ${this.name}/current`, err);
          }
        }
      } else {
        await rotateFiles(this.rotating(), op.rotate);
      }
      this.ops.shift();
    }
  }

  /** SIGALRM: rotate when current has anything in it (the caller has flushed, and drains after). */
  forceRotate(): void {
    if (this.bytes > 0) this.cut('EINTR');
  }

  /** Clean exit: everything on disk, `current` marked complete (0744). */
  async quit(): Promise<void> {
    this.flush();
    this.stage();
    await this.drain();
    await retry(this.rt, `unable to write ${this.name}/current to disk`, () => fs.fsyncSync(this.fd));
    await retry(this.rt, `unable to set mode of ${this.name}/current`, () => fs.fchmodSync(this.fd, 0o744));
  }

  /** `quit`, then close `current` and the lock: the state a stopped 0.76 multilog leaves. */
  async close(): Promise<void> {
    if (this.fd >= 0) await this.quit();
    this.release();
  }

  /** Closes whatever is open without writing (a failed start-up, or a logger given up). */
  release(): void {
    for (const fd of [this.fd, this.lockFd]) {
      if (fd < 0) continue;
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.fd = -1;
    this.lockFd = -1;
  }

  get attached(): boolean {
    return this.fd >= 0;
  }
}
