import { spawn } from 'node:child_process';
import { closeSync, read } from 'node:fs';
import { O_CLOEXEC, pipe2 } from '../posix/index.js';
import type { ChainState } from '../supervision/chain.js';
import { errstr } from '../djb/errstr.js';
import type { ProgramIo } from '../supervision/program.js';

/**
 * Set only in the environment of the process fghack starts, to the chain's
 * pending softlimit limits: that process removes it and execs the child
 * (with those limits), so the child never sees it.
 */
export const FGHACK_CHILD_ENV = 'DJBPKG_FGHACK_CHILD';

/** Copies of the pipe's write end the child holds (0.76: the pipe's own plus 30 dups). */
const WRITE_ENDS = 31;

type Slot = 'inherit' | 'ignore' | number;

/**
 * The child's descriptor table as 0.76 leaves it: 0-2 and every inherited
 * descriptor at its own number, setlock's locks at their C numbers
 * (`held`: C number to this process's descriptor), the write end in the
 * lowest free slots.
 */
export function childSlots(inherited: readonly number[], writeFd: number, held: ReadonlyMap<number, number> = new Map()): Slot[] {
  const slots: Slot[] = ['inherit', 'inherit', 'inherit'];
  let placed = 0;
  for (let fd = 3; placed < WRITE_ENDS || fd <= Math.max(-1, ...inherited, ...held.keys()); fd++) {
    const lock = held.get(fd);
    if (lock !== undefined) slots.push(lock);
    else if (inherited.includes(fd)) slots.push('inherit');
    else if (placed < WRITE_ENDS) {
      slots.push(writeFd);
      placed++;
    } else slots.push('ignore');
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
 * fghack's work for a chain at any link: the child is `file` (our fghack)
 * started in child mode with the chain's environment, descriptors and
 * pending limits (set only at its own final exec, so Node never runs under
 * them); this process waits as 0.76's fghack does.
 */
export async function fghackHere(file: string, argv: string[], state: ChainState, io: ProgramIo): Promise<number> {
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
  const stdio = childSlots(state.passed(), w, new Map(state.heldFds().map((h) => [h.target, h.fd])));
  const env: Record<string, string> = {};
  for (const entry of state.environ) {
    const at = entry.indexOf('=');
    env[entry.slice(0, at)] ??= entry.slice(at + 1);
  }
  const child = spawn(process.execPath, [...process.execArgv, file, ...argv], {
    env: { ...env, [FGHACK_CHILD_ENV]: state.limitsText() },
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
