import fs from 'node:fs';
import { mkfifo, tryLockExclusive } from '../posix/index.js';
import { errcode, errstr } from '../djb/errstr.js';
import { packStatus, type Status, type Want } from './status.js';

const { O_RDONLY, O_DIRECTORY, O_WRONLY, O_RDWR, O_NONBLOCK, O_APPEND, O_CREAT, O_TRUNC } = fs.constants;

/**
 * The files supervise keeps in `DIR/supervise`: `lock`, the `control` and
 * `ok` FIFOs, `status`. `dir` is the path to that directory (through
 * `/proc/self/fd/N`), `name` the one messages give (`NAME/supervise`).
 */

/** A startup failure of supervise: `message` is the complete line 0.76 prints; exit 111. */
export class SuperviseFatal extends Error {
  readonly line: string;
  constructor(line: string) {
    super(line.trimEnd());
    this.line = line;
  }
}

/** Reports a failed startup step (throws SuperviseFatal). */
export type Fatal = (what: string, err: unknown) => never;

/**
 * Opens the service directory (supervise's chdir) and looks for `down`:
 * the service is wanted up unless `down` exists.
 */
export function openServiceDir(dir: string, label: string, fatal: Fatal): { dirFd: number; want: Want } {
  let dirFd: number;
  try {
    dirFd = fs.openSync(dir, O_RDONLY | O_DIRECTORY);
  } catch (err) {
    return fatal(`unable to chdir to ${label}`, err);
  }
  try {
    fs.statSync(`/proc/self/fd/${dirFd}/down`);
  } catch (err) {
    if (errcode(err) !== 'ENOENT') {
      fs.closeSync(dirFd);
      return fatal(`unable to stat ${label}/down`, err);
    }
    return { dirFd, want: 'up' };
  }
  return { dirFd, want: 'down' };
}

/** Creates `supervise/` if needed and takes its `lock`; returns the lock's descriptor. */
export function openLock(dir: string, name: string, fatal: Fatal): number {
  try {
    fs.mkdirSync(dir, 0o700);
  } catch {
    // EEXIST is normal; anything else surfaces when the lock is opened.
  }
  let lock: number;
  try {
    lock = fs.openSync(`${dir}/lock`, O_WRONLY | O_NONBLOCK | O_APPEND | O_CREAT, 0o600);
  } catch (err) {
    return fatal(`unable to acquire ${name}/lock`, err);
  }
  let locked: boolean;
  try {
    locked = tryLockExclusive(lock);
  } catch (err) {
    fs.closeSync(lock);
    return fatal(`unable to acquire ${name}/lock`, err);
  }
  if (!locked) {
    fs.closeSync(lock);
    return fatal(`unable to acquire ${name}/lock`, 'EAGAIN');
  }
  return lock;
}

/**
 * Makes the `control` FIFO and opens it read-write: supervise reads it and,
 * as its own writer, never sees end of file. Something else than a FIFO is
 * fatal (0.76 would spin on a regular file forever).
 */
export function openControl(dir: string, name: string, fatal: Fatal): number {
  makeFifo(`${dir}/control`);
  let control: number;
  try {
    control = fs.openSync(`${dir}/control`, O_RDWR | O_NONBLOCK);
  } catch (err) {
    return fatal(`unable to read ${name}/control`, err);
  }
  let isFifo = false;
  try {
    isFifo = fs.fstatSync(control).isFIFO();
  } catch {
    // Treated as not a FIFO below.
  }
  if (!isFifo) {
    // We stop here with the lock released, and retry later.
    fs.closeSync(control);
    throw new SuperviseFatal(`supervise: fatal: unable to read ${name}/control: not a FIFO\n`);
  }
  return control;
}

/** Makes the `ok` FIFO and holds it open for reading (svok's writer then succeeds). */
export function openOk(dir: string, name: string, fatal: Fatal): number {
  makeFifo(`${dir}/ok`);
  try {
    return fs.openSync(`${dir}/ok`, O_RDONLY | O_NONBLOCK);
  } catch (err) {
    return fatal(`unable to read ${name}/ok`, err);
  }
}

function makeFifo(path: string): void {
  try {
    mkfifo(path, 0o600);
  } catch {
    // Already there (or unusable: the open that follows says why).
  }
}

/** Writes `status.new` and renames it over `status`, as 0.76's announce; a failure is one warning line. */
export function writeStatus(dir: string, name: string, status: Status, warn: (line: string) => void): void {
  const bytes = packStatus(status);
  let fd: number;
  try {
    fd = fs.openSync(`${dir}/status.new`, O_WRONLY | O_NONBLOCK | O_TRUNC | O_CREAT, 0o644);
  } catch (err) {
    warn(`supervise: warning: unable to open ${name}/status.new: ${errstr(err)}\n`);
    return;
  }
  try {
    const n = fs.writeSync(fd, bytes);
    if (n < bytes.length) {
      warn(`supervise: warning: unable to write ${name}/status.new: partial write\n`);
      return;
    }
  } catch (err) {
    warn(`supervise: warning: unable to write ${name}/status.new: ${errstr(err)}\n`);
    return;
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(`${dir}/status.new`, `${dir}/status`);
  } catch (err) {
    warn(`supervise: warning: unable to rename ${name}/status.new to status: ${errstr(err)}\n`);
  }
}
