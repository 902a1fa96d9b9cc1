import { constants } from 'node:fs';
import type { MakeDirectoryOptions } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { appendFileSync, writeSync } from 'node:fs';
import { check, libc } from './libc.js';

/**
 * The file-system changes an install or remove makes, each one a numbered
 * step. This is the seam where tests inject faults and where a trapped
 * signal stops a transaction at its next step.
 *
 * Test-only switches (read here and nowhere else):
 * - `DJBPKG_TEST_FAULT=N:KIND` — at step N (1-based) do KIND instead of the
 *   step: `kill` (SIGKILL this process), `crash` (this step and every later
 *   one throws, so the disk stays as a kill would leave it; for in-process
 *   tests), `sigint`/`sigterm`/`sighup` (send this process that signal, then
 *   go on), or an errno name (`ENOSPC`, `EIO`, `EACCES`, `EROFS`) thrown once.
 * - `DJBPKG_TEST_FAULT_LOG=FILE` — appends `N<TAB>OP<TAB>PATH` per step.
 */

interface SeamState {
  spec: string | undefined;
  count: number;
  crashed: boolean;
  /** The signal that asked the running transaction to stop, if any. */
  interrupted: NodeJS.Signals | undefined;
  /** True once Interrupted was thrown: the undo that follows runs to its end. */
  delivered: boolean;
}

// One per process by nature: signals and the step counter belong to the process.
const state: SeamState = { spec: undefined, count: 0, crashed: false, interrupted: undefined, delivered: false };

/** Thrown at the next step after SIGINT/SIGTERM/SIGHUP was trapped. */
export class Interrupted extends Error {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
    this.signal = signal;
  }
}

function errnoError(code: string, op: string, p: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: injected fault, ${op} '${p}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = op;
  e.path = p;
  return e;
}

/** Starts the step count again (a new command in the same process, as tests run them). */
export function resetSteps(): void {
  state.count = 0;
  state.crashed = false;
  state.spec = undefined;
  state.interrupted = undefined;
  state.delivered = false;
}

/** Marks the process interrupted: the next step throws Interrupted. */
export function interrupt(sig: NodeJS.Signals): void {
  state.interrupted ??= sig;
}

/** The signal trapped since the last clear, if any. */
export function interruptedBy(): NodeJS.Signals | undefined {
  return state.interrupted;
}

/** Clears a trapped signal (after the transaction undid itself). */
export function clearInterrupt(): void {
  state.interrupted = undefined;
  state.delivered = false;
}

function throwIfInterrupted(): void {
  if (state.interrupted && !state.delivered) {
    state.delivered = true;
    throw new Interrupted(state.interrupted);
  }
}

/**
 * Counts one step and applies a requested fault or a trapped signal. Every
 * change below calls it first; code that changes files by other means (tar,
 * a build) calls it once for the whole operation.
 */
export function step(op: string, p: string): void {
  if (state.crashed) throw errnoError('EIO', op, p);
  throwIfInterrupted();
  const env = process.env;
  const spec = env.DJBPKG_TEST_FAULT;
  if (spec === undefined && env.DJBPKG_TEST_FAULT_LOG === undefined) return;
  if (spec !== state.spec) {
    state.spec = spec;
    state.count = 0;
  }
  const n = ++state.count;
  if (env.DJBPKG_TEST_FAULT_LOG) appendFileSync(env.DJBPKG_TEST_FAULT_LOG, `${n}\t${op}\t${p}\n`);
  if (!spec) return;
  const m = /^(\d+):([A-Za-z]+)$/.exec(spec);
  if (!m || Number(m[1]) !== n) return;
  const kind = m[2]!;
  if (kind === 'kill') process.kill(process.pid, 'SIGKILL');
  // A signal as the admin would send it: delivered, then trapped, the step goes on.
  if (/^sig(int|term|hup)$/i.test(kind)) {
    process.kill(process.pid, kind.toUpperCase() as NodeJS.Signals);
    return;
  }
  if (kind === 'crash') {
    state.crashed = true;
    throw errnoError('EIO', op, p);
  }
  throw errnoError(kind.toUpperCase(), op, p);
}

/** A point where a long operation may stop for a trapped signal (no step counted). */
export function checkpoint(): void {
  if (state.crashed) throw errnoError('EIO', 'checkpoint', '');
  throwIfInterrupted();
}

export async function mkdir(p: string, mode: number): Promise<void> {
  step('mkdir', p);
  await fsp.mkdir(p, { mode } satisfies MakeDirectoryOptions);
  await fsp.chmod(p, mode);
}

export async function rmdir(p: string): Promise<void> {
  step('rmdir', p);
  await fsp.rmdir(p);
}

export async function rename(from: string, to: string): Promise<void> {
  step('rename', to);
  await fsp.rename(from, to);
}

export async function unlink(p: string): Promise<void> {
  step('unlink', p);
  await fsp.unlink(p);
}

/** unlink that treats an absent file as done. */
export async function unlinkIfPresent(p: string): Promise<void> {
  step('unlink', p);
  try {
    await fsp.unlink(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export async function rmTree(p: string): Promise<void> {
  step('rm', p);
  await fsp.rm(p, { recursive: true, force: true });
}

export async function symlink(target: string, p: string): Promise<void> {
  step('symlink', p);
  await fsp.symlink(target, p);
}

export async function chmod(p: string, mode: number): Promise<void> {
  step('chmod', p);
  await fsp.chmod(p, mode);
}

export async function chown(p: string, uid: number, gid: number): Promise<void> {
  step('chown', p);
  await fsp.chown(p, uid, gid);
}

/** Flags for a file that must be new: never an existing file, never through a symlink. */
export const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Opens a new file exclusively (EEXIST if anything, a symlink included, is at `p`). */
export async function createExclusive(p: string, mode: number): Promise<FileHandle> {
  step('create', p);
  const fh = await fsp.open(p, CREATE_EXCLUSIVE, mode);
  try {
    await fh.chmod(mode);
  } catch (err) {
    await fh.close();
    throw err;
  }
  return fh;
}

/** Opens an existing regular file for appending, refusing a symlink. */
export async function openAppendNoFollow(p: string): Promise<FileHandle> {
  step('open', p);
  return fsp.open(p, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
}

/** Writes a new file exclusively with `mode`, then syncs it. */
export async function writeNew(p: string, data: string | Buffer, mode: number): Promise<void> {
  const fh = await createExclusive(p, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Appends one record to an open journal and syncs it (the record is on disk before the step it names). */
export async function appendSync(fh: FileHandle, p: string, data: string, op = 'append'): Promise<void> {
  step(op, p);
  await fh.appendFile(data);
  await fh.sync();
}

/** Synchronous append for a journal written from a sync context. */
export function appendFdSync(fd: number, p: string, data: string): void {
  step('append', p);
  writeSync(fd, data);
}

const AT_FDCWD = -100;
const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;

/** renameat2(RENAME_EXCHANGE): swaps two paths in one atomic step. */
export async function exchange(a: string, b: string): Promise<void> {
  step('exchange', b);
  check('renameat2', libc().renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE));
}

/** renameat2(RENAME_NOREPLACE): renames, failing with EEXIST instead of replacing. */
export async function renameNoReplace(from: string, to: string): Promise<void> {
  step('rename', to);
  check('renameat2', libc().renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE));
}
