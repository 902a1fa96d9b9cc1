import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tryLockExclusive } from '../../posix/index.js';
import { errcode, errstr } from '../errstr.js';
import type { Arena } from './arena.js';
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

/** The text C prints after "processor crashed": its stale errno. */
export type CrashCause = 'EINTR' | 'ENOENT';

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
 * backpressure C gets from blocking).
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
  private crashCause: CrashCause = 'ENOENT';
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
        await this.rotateFiles(op.rotate);
      }
      this.ops.shift();
    }
  }

  /** SIGALRM: rotate when current has anything in it (the caller has flushed, and drains after). */
  forceRotate(): void {
    if (this.bytes > 0) this.cut('EINTR');
  }

  private async retry(what: string, op: () => void): Promise<void> {
    for (;;) {
      try {
        op();
        return;
      } catch (err) {
        await this.rt.pause(what, err);
      }
    }
  }

  /** 0.76 `fullcurrent`, on the files (the bytes before it are written). */
  private async rotateFiles(cause: CrashCause): Promise<void> {
    const name = this.name;
    this.crashCause = cause;
    await this.retry(`unable to write ${name}/current to disk`, () => fs.fsyncSync(this.fd));
    fs.closeSync(this.fd);
    this.fd = -1;
    await this.retry(`unable to rename current to previous in directory ${name}`, () =>
      fs.renameSync(this.file('current'), this.file('previous')),
    );
    await this.retry(`unable to create ${name}/current`, () => {
      this.fd = fs.openSync(this.file('current'), OPEN_APPEND, 0o600);
    });
    await this.retry(`unable to set mode of ${name}/current`, () => fs.fchmodSync(this.fd, 0o644));
    await this.retry(`unable to set mode of ${name}/previous`, () => fs.chmodSync(this.file('previous'), 0o744));
    if (this.processor === undefined) {
      await this.finish('previous', 's');
      return;
    }
    await this.runProcessor(this.processor);
    const syncAndClose = async (file: string, what: string, mode?: number) => {
      let fd = -1;
      await this.retry(`unable to create ${name}/${file}`, () => {
        fd = fs.openSync(this.file(file), OPEN_APPEND, 0o600);
      });
      await this.retry(`unable to write ${name}/${file} to disk`, () => fs.fsyncSync(fd));
      if (mode !== undefined) await this.retry(`unable to set mode of ${what}`, () => fs.fchmodSync(fd, mode));
      fs.closeSync(fd);
    };
    await syncAndClose('processed', `${name}/processed`, 0o744);
    await syncAndClose('newstate', `${name}/newstate`);
    await this.retry(`unable to remove ${name}/previous`, () => fs.unlinkSync(this.file('previous')));
    await this.retry(`unable to rename newstate to state in directory ${name}`, () =>
      fs.renameSync(this.file('newstate'), this.file('state')),
    );
    await this.finish('processed', 's');
  }

  /** Runs `sh -c PROC` on `previous` until it exits 0 (0.76 retries forever). */
  private async runProcessor(proc: string): Promise<void> {
    for (;;) {
      const outcome = await this.runProcessorOnce(proc);
      if (outcome === 'ok') return;
      if (outcome === 'crashed') await this.rt.pause(`processor crashed in ${this.name}`, this.crashCause);
      this.rt.warnRaw(`processor failed in ${this.name}, pausing`);
      await this.rt.sleep();
    }
  }

  /** One run of the processor, as a child process this one waits for without blocking. */
  private async runProcessorOnce(proc: string): Promise<'ok' | 'failed' | 'crashed'> {
    const fds: number[] = [];
    try {
      try {
        fds.push(fs.openSync(this.file('previous'), OPEN_READ));
        fds.push(fs.openSync(this.file('processed'), OPEN_TRUNC, 0o644));
        fds.push(fs.openSync(this.file('state'), OPEN_READ));
        fds.push(fs.openSync(this.file('newstate'), OPEN_TRUNC, 0o644));
      } catch (err) {
        // In 0.76 the forked child opens these and dies with this message.
        this.rt.fatalFromChild(`unable to run ${proc}: ${errstr(err)}`);
        return 'failed';
      }
      for (;;) {
        const r = await new Promise<{ error?: unknown; signal?: NodeJS.Signals | null; status?: number | null }>((resolve) => {
          try {
            const child = spawn('/bin/sh', ['-c', proc], {
              cwd: this.abs,
              argv0: 'sh',
              stdio: [fds[0]!, fds[1]!, 2, 'ignore', fds[2]!, fds[3]!],
            });
            child.once('error', (error) => resolve({ error }));
            child.once('exit', (status, signal) => resolve({ status, signal }));
          } catch (error) {
            resolve({ error });
          }
        });
        if (r.error !== undefined) {
          const code = errcode(r.error);
          if (code === 'EAGAIN' || code === 'ENOMEM') {
            await this.rt.pause(`unable to fork for processor in ${this.name}`, r.error);
            continue;
          }
          this.rt.fatalFromChild(`unable to run ${proc}: ${errstr(r.error)}`);
          return 'failed';
        }
        if (r.signal) return 'crashed';
        return r.status === 0 ? 'ok' : 'failed';
      }
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
  }

  /** 0.76 `finish`: archive FILE as `@<tai64n>.CODE`, then trim to at most num-1 archives. */
  async finish(file: string, code: string): Promise<void> {
    const name = this.name;
    const f = this.file(file);
    let st: fs.Stats | undefined;
    for (;;) {
      try {
        st = fs.statSync(f);
        break;
      } catch (err) {
        if (errcode(err) === 'ENOENT') return;
        await this.rt.pause(`unable to stat ${name}/${file}`, err);
      }
    }
    if (st.nlink === 1) {
      for (;;) {
        const archive = this.rt.archiveName(code);
        try {
          fs.linkSync(f, this.file(archive));
          break;
        } catch (err) {
          await this.rt.pause(`unable to link to ${name}/${archive}`, err);
        }
      }
    }
    for (;;) {
      try {
        fs.unlinkSync(f);
        break;
      } catch (err) {
        if (errcode(err) === 'ENOENT') break;
        await this.rt.pause(`unable to remove ${name}/${file}`, err);
      }
    }
    for (;;) {
      try {
        if (this.trimArchives()) return;
      } catch (err) {
        await this.rt.pause(`unable to read ${name}`, err);
      }
    }
  }

  /** 0.76 `filesfit`: true when fewer than num archives remain, else removes the oldest. */
  private trimArchives(): boolean {
    const names = fs.readdirSync(this.abs);
    let count = 0;
    let oldest = '@z';
    for (const n of names) {
      if (n.charCodeAt(0) === 0x40 && n.length >= 25) {
        count++;
        if (n < oldest) oldest = n.slice(0, 25);
      }
    }
    if (count < this.num) return true;
    const victim = names.find((n) => n.charCodeAt(0) === 0x40 && n.length >= 25 && n.startsWith(oldest));
    if (victim !== undefined) this.unlinkQuietly(victim);
    return false;
  }

  /** Clean exit: everything on disk, `current` marked complete (0744). */
  async quit(): Promise<void> {
    this.flush();
    this.stage();
    await this.drain();
    await this.retry(`unable to write ${this.name}/current to disk`, () => fs.fsyncSync(this.fd));
    await this.retry(`unable to set mode of ${this.name}/current`, () => fs.fchmodSync(this.fd, 0o744));
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
