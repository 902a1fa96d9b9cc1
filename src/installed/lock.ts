import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DjbError, ioError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import { assertInsideRoot, mkdirs } from '../core/fs.js';
import { LOCK_UN, flock, tryLockExclusive } from '../posix/index.js';
import { recoverJournal } from './txn.js';

/** How long `install` waits for another install on the same root by default. */
export const DEFAULT_LOCK_WAIT_MS = 30_000;
const POLL_MS = 100;

export function rootLockPath(root: Root): string {
  return path.join(root.stateDir, 'lock');
}

export interface HeldLock {
  path: string;
  release(): void;
}

/**
 * Takes the one install lock of `root` (flock on ROOT/var/lib/djbpkg/lock, so a
 * dead holder never leaves it stale). Waits up to `waitMs` for another holder,
 * then fails with E_LOCKED (exit 111). The lock file itself stays.
 */
export async function lockRoot(root: Root, waitMs = DEFAULT_LOCK_WAIT_MS, now: () => number = Date.now): Promise<HeldLock> {
  const file = rootLockPath(root);
  await assertInsideRoot(root, [root.stateDir]);
  let fd: number;
  try {
    await mkdirs(path.dirname(file), { fail: (_level, err) => err as Error });
    // Never through a symlink: a planted link must not make us create or open its target.
    fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new DjbError('E_CONFLICT', `unable to open lock ${file}: it is a symlink`, { hint: `remove ${file}; djbpkg makes it itself` });
    }
    throw ioError(`unable to open lock ${file}`, err);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new DjbError('E_CONFLICT', `unable to use lock ${file}: not a regular file`);
  }
  const deadline = now() + waitMs;
  for (;;) {
    let taken: boolean;
    try {
      taken = tryLockExclusive(fd);
    } catch (err) {
      closeSync(fd);
      throw ioError(`unable to lock ${file}`, err);
    }
    if (taken) break;
    if (now() >= deadline) {
      closeSync(fd);
      throw new DjbError('E_LOCKED', `unable to lock ${file}: another djbpkg install holds it`, {
        hint: `wait for it to finish, or raise --lock-wait (waited ${Math.round(waitMs / 1000)} s)`,
      });
    }
    await sleep(POLL_MS);
  }
  let held = true;
  return {
    path: file,
    release() {
      if (!held) return;
      held = false;
      try {
        flock(fd, LOCK_UN);
      } finally {
        closeSync(fd);
      }
    },
  };
}

/**
 * Takes the root lock, then recovers a transaction a killed run left behind
 * (its journal), so that the caller starts from a consistent root.
 */
export async function lockAndRecover(
  root: Root,
  waitMs: number,
  now: () => number,
  log: (line: string) => void,
): Promise<HeldLock> {
  const lock = await lockRoot(root, waitMs, now);
  try {
    const r = await recoverJournal(root);
    if (r) log(`recovered an interrupted ${r.kind} of ${r.what}: ${r.outcome}`);
  } catch (err) {
    lock.release();
    throw err;
  }
  return lock;
}
