import { spawn } from 'node:child_process';
import { closeSync, read } from 'node:fs';
import { O_CLOEXEC, pipe2, releaseInheritedFds } from '../posix/index.js';
import { errstr } from '../supervision/errstr.js';
import { execChild } from '../supervision/pathexec.js';
import type { ProgramIo } from '../supervision/program.js';

/**
 * Set (to `1`) only in the environment of the process fghack starts: that
 * process removes it and execs the child, so the child never sees it.
 */
export const FGHACK_CHILD_ENV = 'DJBPKG_FGHACK_CHILD';

/** Copies of the pipe's write end the child holds (0.76: the pipe's own plus 30 dups). */
const WRITE_ENDS = 31;

type Slot = 'inherit' | 'ignore' | number;

/**
 * The child's descriptor table as 0.76 leaves it: 0-2 and every inherited
 * descriptor at its own number, the write end in the lowest free slots.
 */
export function childSlots(inherited: readonly number[], writeFd: number): Slot[] {
  const slots: Slot[] = ['inherit', 'inherit', 'inherit'];
  let placed = 0;
  for (let fd = 3; placed < WRITE_ENDS; fd++) {
    if (inherited.includes(fd)) slots.push('inherit');
    else {
      slots.push(writeFd);
      placed++;
    }
  }
  return slots;
}

function untilEof(fd: number): Promise<void> {
  const buf = Buffer.alloc(64);
  return new Promise((resolve) => {
    const next = (): void =>
      read(fd, buf, 0, buf.length, null, (err, n) => {
        if (err && (err as NodeJS.ErrnoException).code === 'EINTR') return next();
        if (err || n === 0) return resolve();
        next();
      });
    next();
  });
}

/**
 * fghack child: runs child holding write ends of a pipe, waits until every
 * copy is closed (the child and whatever it left in the background), then
 * exits with the child's exit code.
 */
export async function main(argv: string[], io: ProgramIo): Promise<number> {
  if (io.env[FGHACK_CHILD_ENV] !== undefined) {
    delete io.env[FGHACK_CHILD_ENV];
    return execChild('fghack', argv, io);
  }
  if (argv.length < 1) {
    io.stderr('fghack: usage: fghack child\n');
    return 100;
  }
  let r: number;
  let w: number;
  try {
    [r, w] = pipe2(O_CLOEXEC);
  } catch (err) {
    io.stderr(`fghack: fatal: unable to create pipe: ${errstr(err)}\n`);
    return 111;
  }
  const stdio = childSlots(releaseInheritedFds(), w);
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    env: { ...io.env, [FGHACK_CHILD_ENV]: '1' },
    stdio,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: unknown }>((resolve) => {
    child.once('error', (error) => resolve({ error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  closeSync(w);
  await untilEof(r);
  closeSync(r);
  const status = await exited;
  if ('error' in status) {
    io.stderr(`fghack: fatal: unable to fork: ${errstr(status.error)}\n`);
    return 111;
  }
  if (status.signal !== null) {
    io.stderr('fghack: fatal: child crashed\n');
    return 111;
  }
  return status.code ?? 111;
}
