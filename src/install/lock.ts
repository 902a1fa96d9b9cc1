import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DjbError, ioError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import { LOCK_UN, flock, tryLockExclusive } from '../posix/index.js';

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
  let fd: number;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fd = openSync(file, 'a', 0o644);
  } catch (err) {
    throw ioError(`unable to open lock ${file}`, err);
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
