import fs from 'node:fs';
import { setNonblock } from '../posix/index.js';
import { errstr } from '../supervision/errstr.js';
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
const EAGAIN_RETRY_MS = 10;

type ReadResult = number | NodeJS.ErrnoException;

function readStdin(buf: Buffer, len: number): Promise<ReadResult> {
  return new Promise((resolve) => {
    const attempt = () =>
      fs.read(0, buf, 0, len, null, (err, n) => {
        if (err && err.code === 'EAGAIN') setTimeout(attempt, EAGAIN_RETRY_MS);
        else resolve(err ?? n);
      });
    attempt();
  });
}

function writeAllStderr(bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += fs.writeSync(2, bytes, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}

/**
 * multilog SCRIPT: 0.76's log writer. Signals are acted on only between reads
 * (C blocks them elsewhere): TERM ends at the next line boundary, ALRM
 * rotates every non-empty `current`.
 */
export async function main(argv: string[], io: ProgramIo): Promise<number> {
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
    arena = new Arena(arenaSize(2, READ_SIZE, script.dirs.length, BATCH));
    const a = arena;
    dirs = script.dirs.map((spec) => new LogDir(spec, startDir, rt, a));
    for (const d of dirs) d.open();
    engine = new LineEngine(script, dirs, statusFds, rt, writeAllStderr, a);
  } catch (err) {
    if (err instanceof MultilogFatal) {
      io.stderr(`multilog: fatal: ${err.message}\n`);
      return 111;
    }
    throw err;
  }
  try {
    setNonblock(0, false);
  } catch {
    // stdin closed or not ours to change: the reads report it
  }

  // Two buffers: the next read runs on a worker thread while this one is processed.
  const buffers = [arena.take(READ_SIZE), arena.take(READ_SIZE)];
  let which = 0;
  let lastWasNewline = true;
  let inflight: Promise<ReadResult> | undefined;
  for (;;) {
    engine.flushAll();
    for (const d of dirs) d.writeOut();
    if (signals.rotate) {
      signals.rotate = false;
      for (const d of dirs) d.forceRotate();
    }
    // TERM at a line boundary: 0.76's interrupted read ends input here.
    if (signals.exit && lastWasNewline) break;
    inflight ??= readStdin(buffers[which]!, signals.exit ? 1 : READ_SIZE);
    const woken = new Promise<'wake'>((resolve) => {
      signals.wake = () => resolve('wake');
    });
    const r = await Promise.race([inflight, woken]);
    signals.wake = undefined;
    if (r === 'wake') continue;
    // 0.76 treats a failed read like the end of input.
    if (typeof r !== 'number' || r <= 0) break;
    const inbuf = buffers[which]!;
    which ^= 1;
    inflight = signals.exit ? undefined : readStdin(buffers[which]!, READ_SIZE);
    lastWasNewline = inbuf[r - 1] === 10;
    const view = inbuf.subarray(0, r);
    for (let off = 0; off < r; off += C_READ) {
      if (off > 0) engine.flushAll();
      engine.consume(view, off, Math.min(off + C_READ, r));
    }
  }
  engine.eof();
  for (const d of dirs) d.quit();
  return 0;
}
