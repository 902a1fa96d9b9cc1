import fs from 'node:fs';
import { waitReadable } from '../posix/index.js';
import { errstr } from '../djb/errstr.js';
import { writeStderrBestEffort } from '../djb/fdio.js';
import { hostRequested, runHost } from '../supervision/hosted/loghost.js';
import {
  Arena,
  BATCH,
  LineEngine,
  arenaSize,
  LogDir,
  MultilogFatal,
  Runtime,
  openStatusFiles,
  parseScript,
} from '../supervision/multilog/index.js';
import type { ProgramIo } from '../supervision/program.js';

/** Bytes asked of each real read; processed as 1024-byte reads, as 0.76 reads. */
const READ_SIZE = 1 << 18;
const C_READ = 1024;

/** One read of stdin, made only once poll(2) says it will not block: bytes, 0 at end, -1 to wait again. */
function readReady(buf: Buffer, len: number): number {
  try {
    return fs.readSync(0, buf, 0, len, null);
  } catch (err) {
    // Someone else sharing the pipe took the bytes first.
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return -1;
    // 0.76 treats a failed read like the end of input.
    return 0;
  }
}

/**
 * multilog SCRIPT: 0.76's log writer. Signals are acted on only between reads
 * (C blocks them elsewhere): TERM ends at the next line boundary, ALRM
 * rotates every non-empty `current`. Started by svscan as a log host
 * (supervision/hosted/loghost.ts), it runs the loggers of one user instead.
 */
export async function main(argv: string[], io: ProgramIo): Promise<number> {
  if (hostRequested(io.env)) return runHost(io);
  const signals = { exit: false, rotate: false, wake: undefined as (() => void) | undefined };
  const onTerm = () => {
    signals.exit = true;
    signals.wake?.();
  };
  const onAlrm = () => {
    signals.rotate = true;
    signals.wake?.();
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGALRM', onAlrm);
  process.umask(0o022);
  let startDir: string;
  try {
    startDir = process.cwd();
  } catch (err) {
    io.stderr(`multilog: fatal: unable to switch to current directory: ${errstr(err)}\n`);
    return 111;
  }
  const rt = new Runtime(io.stderr, Runtime.pauseFromEnv(io.env));
  const script = parseScript(argv);
  let dirs: LogDir[];
  let engine: LineEngine;
  let arena: Arena;
  try {
    const statusFds = openStatusFiles(script, startDir);
    arena = new Arena(arenaSize(1, READ_SIZE, script.dirs.length, BATCH));
    const a = arena;
    dirs = script.dirs.map((spec) => new LogDir(spec, startDir, rt, a));
    for (const d of dirs) await d.open();
    engine = new LineEngine(script, dirs, statusFds, rt, writeStderrBestEffort, a);
  } catch (err) {
    if (err instanceof MultilogFatal) {
      io.stderr(`multilog: fatal: ${err.message}\n`);
      return 111;
    }
    throw err;
  }

  // stdin is read only when poll(2) says a read will not block, and only
  // on this thread: when TERM is acted on, no read is pending anywhere, so
  // nothing is taken from the pipe that is not written to the log.
  const inbuf = arena.take(READ_SIZE);
  let lastWasNewline = true;
  let ready: Promise<'ready'> | undefined;
  for (;;) {
    engine.flushAll();
    for (const d of dirs) d.stage();
    for (const d of dirs) await d.drain();
    if (engine.unsettled) await engine.settle();
    if (signals.rotate) {
      signals.rotate = false;
      for (const d of dirs) d.forceRotate();
      for (const d of dirs) await d.drain();
    }
    // TERM at a line boundary: 0.76's interrupted read ends input here.
    if (signals.exit && lastWasNewline) break;
    ready ??= waitReadable(0).then(() => 'ready' as const);
    const woken = new Promise<'wake'>((resolve) => {
      signals.wake = () => resolve('wake');
    });
    const r = await Promise.race([ready, woken]);
    signals.wake = undefined;
    if (r === 'wake') continue;
    ready = undefined;
    // After TERM, one byte at a time: nothing past the line's end is taken.
    const n = readReady(inbuf, signals.exit ? 1 : READ_SIZE);
    if (n < 0) continue;
    if (n === 0) break;
    lastWasNewline = inbuf[n - 1] === 10;
    const view = inbuf.subarray(0, n);
    for (let off = 0; off < n; off += C_READ) {
      if (off > 0) engine.flushAll();
      engine.consume(view, off, Math.min(off + C_READ, n));
    }
  }
  engine.eof();
  if (engine.unsettled) await engine.settle();
  for (const d of dirs) await d.quit();
  return 0;
}
