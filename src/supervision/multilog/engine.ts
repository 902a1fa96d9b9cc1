import fs from 'node:fs';
import type { Arena } from './arena.js';
import type { LogDir } from './logdir.js';
import { matchLine } from './match.js';
import type { Runtime } from './runtime.js';
import type { Action, Script } from './script.js';

/** Longest line (timestamp included) that patterns, `e` and `=` see. */
export const LINE_LIMIT = 1000;
/** What `=FILE` holds: the line padded with newlines to this size. */
export const STATUS_BYTES = 1001;
/** What `e` prints of a long line before `...`. */
export const STDERR_LIMIT = 200;
const STAMP_BYTES = 26;

const START = 0;
const COLLECT = 1;
const LONG = 2;

/**
 * multilog's per-line loop (0.76 `doit`) as a byte-driven state machine: it is
 * fed one emulated 1024-byte read at a time and produces the same sequence of
 * buffer operations on each directory as C, so cut points match.
 */
export class LineEngine {
  private phase = START;
  /** C's `line[]`: timestamp + content, used when a line spans reads or actions must see it. */
  private readonly line: Buffer;
  /** Bytes of the current line taken so far (timestamp included). */
  private linelen = 0;
  /** True when the current line's bytes so far live in `line`. */
  private stored = false;
  private readonly stamp: Buffer;
  private readonly noHead: Buffer;
  private readonly statusBuf: Buffer;
  /** True when every line goes to every directory (no + - e = in the script). */
  private readonly plain: boolean;
  /** Set at each read: the next line's label is the time of the read that brought its first byte. */
  private clockStale = true;
  private nlSrc: Uint8Array | undefined;
  /** `=FILE` writes that failed, by descriptor: the newest line for each, and the error. */
  private readonly statusPending = new Map<number, { file: string; bytes: Buffer; err: unknown }>();
  private nlPos = -1;

  constructor(
    private readonly script: Script,
    private readonly dirs: readonly LogDir[],
    /** fd per action index for `=FILE` actions. */
    private statusFds: ReadonlyMap<Action, number>,
    private readonly rt: Runtime,
    private readonly writeStderr: (bytes: Uint8Array) => void,
    private readonly arena: Arena,
  ) {
    this.line = arena.take(LINE_LIMIT);
    this.stamp = arena.take(STAMP_BYTES).fill(0x20);
    this.noHead = arena.take(0);
    this.statusBuf = arena.take(STATUS_BYTES);
    this.plain = script.actions.every((a) => a.kind === 'dir');
  }

  /** New descriptors for the `=FILE` actions (a hosted logger reopens them at each start). */
  useStatusFiles(fds: ReadonlyMap<Action, number>): void {
    this.statusFds = fds;
    this.statusPending.clear();
  }

  /** True while a line has been started and not yet ended. */
  get midLine(): boolean {
    return this.phase !== START;
  }

  /** buffer_flush of every directory (C does this before each read). */
  flushAll(): void {
    for (const d of this.dirs) d.flush();
  }

  private nextNewline(src: Uint8Array, from: number, end: number): number {
    if (this.nlSrc !== src || this.nlPos < from) {
      this.nlSrc = src;
      const at = (src as Buffer).indexOf(10, from);
      this.nlPos = at < 0 ? src.length : at;
    }
    return this.nlPos < end ? this.nlPos : -1;
  }

  /** Processes the bytes of one emulated read. `src` must be a Buffer view ending at the real read's end. */
  consume(src: Buffer, start: number, end: number): void {
    let i = start;
    const dirs = this.dirs;
    this.clockStale = true;
    while (i < end) {
      if (this.phase === LONG) {
        const nl = this.nextNewline(src, i, end);
        const stop = nl < 0 ? end : nl;
        if (stop > i) for (const d of dirs) if (d.selected) d.putBytes(src, i, stop - i);
        if (nl < 0) return;
        this.endLine();
        i = nl + 1;
        continue;
      }
      if (this.phase === START) {
        if (this.script.timestamp) {
          if (this.clockStale) {
            this.rt.clock.refresh().copy(this.stamp, 0);
            this.clockStale = false;
          }
          this.linelen = STAMP_BYTES;
        } else {
          this.linelen = 0;
        }
        this.stored = false;
        this.phase = COLLECT;
      }
      const room = LINE_LIMIT - this.linelen;
      const nl = this.nextNewline(src, i, end);
      const avail = (nl < 0 ? end : nl) - i;
      if (avail >= room) {
        this.takeLine(src, i, room);
        i += room;
        this.phase = LONG;
      } else if (nl >= 0) {
        this.takeLine(src, i, avail);
        i = nl + 1;
        this.endLine();
      } else {
        this.store(src, i, avail);
        i = end;
      }
    }
  }

  /** End of input: a line in progress is completed with `\n`. */
  eof(): void {
    if (this.phase === COLLECT) {
      this.takeLine(this.line, 0, 0);
      this.endLine();
    } else if (this.phase === LONG) {
      this.endLine();
    }
  }

  private store(src: Uint8Array, start: number, len: number): void {
    if (!this.stored) {
      if (this.script.timestamp) this.stamp.copy(this.line, 0);
      this.stored = true;
    }
    this.arena.copy(src, start, len, this.line, this.linelen);
    this.linelen += len;
  }

  /** The line is complete up to the limit: run the actions and hand it to the selected directories. */
  private takeLine(src: Uint8Array, start: number, len: number): void {
    let head: Uint8Array = this.script.timestamp ? this.stamp : this.noHead;
    if (this.stored) {
      if (len > 0) this.store(src, start, len);
      src = this.line;
      start = 0;
      len = this.linelen;
      head = this.noHead;
    } else {
      this.linelen += len;
    }
    if (!this.plain) {
      if (src !== this.line) {
        this.arena.copy(head, 0, head.length, this.line, 0);
        this.arena.copy(src, start, len, this.line, head.length);
      }
      this.runActions(this.linelen);
    }
    for (const d of this.dirs) if (d.selected) d.putLine(head, src, start, len);
  }

  private endLine(): void {
    for (const d of this.dirs) if (d.selected) d.putNewline();
    this.phase = START;
    this.linelen = 0;
    this.stored = false;
  }

  private runActions(len: number): void {
    const line = this.line;
    let selected = true;
    for (const a of this.script.actions) {
      switch (a.kind) {
        case 'select':
          if (!selected && matchLine(a.pattern, line, len)) selected = true;
          break;
        case 'deselect':
          if (selected && matchLine(a.pattern, line, len)) selected = false;
          break;
        case 'stderr':
          if (selected) {
            if (len > STDERR_LIMIT) {
              this.writeStderr(Buffer.concat([line.subarray(0, STDERR_LIMIT), Buffer.from('...\n')]));
            } else {
              this.writeStderr(Buffer.concat([line.subarray(0, len), Buffer.from('\n')]));
            }
          }
          break;
        case 'status':
          if (selected) this.writeStatus(a.file, this.statusFds.get(a)!, len);
          break;
        case 'dir':
          this.dirs[a.index]!.selected = selected;
          break;
      }
    }
  }

  private writeStatus(file: string, fd: number, len: number): void {
    const out = this.statusBuf;
    this.line.copy(out, 0, 0, len);
    out.fill(10, len);
    const waiting = this.statusPending.get(fd);
    if (waiting) {
      // Still paused on this file: only the newest line will be written (each write replaces the last).
      out.copy(waiting.bytes);
      return;
    }
    const err = writeStatusOnce(fd, out);
    if (err !== undefined) this.statusPending.set(fd, { file, bytes: Buffer.from(out), err });
  }

  /** True while a `=FILE` write waits for its retry (see settle). */
  get unsettled(): boolean {
    return this.statusPending.size > 0;
  }

  /** Retries the `=FILE` writes that failed, with 0.76's warning and pause before each retry. */
  async settle(): Promise<void> {
    for (const [fd, w] of this.statusPending) {
      for (;;) {
        await this.rt.pause(`unable to write ${w.file}`, w.err);
        const err = writeStatusOnce(fd, w.bytes);
        if (err === undefined) break;
        w.err = err;
      }
      this.statusPending.delete(fd);
    }
  }
}

/** One pwrite of a status file at offset 0; the error (ENOSPC for a short write), or undefined. */
function writeStatusOnce(fd: number, out: Buffer): unknown {
  try {
    return fs.writeSync(fd, out, 0, STATUS_BYTES, 0) === STATUS_BYTES ? undefined : 'ENOSPC';
  } catch (err) {
    return err;
  }
}
