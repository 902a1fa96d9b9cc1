import { cp, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { requireInsideRoot } from '../core/confine.js';
import { ioError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import type { ServicePaths } from './names.js';

/**
 * What `service add --force` replaces is kept: before a definition is
 * rewritten, its run, env/, log/run and down are copied to
 * ROOT/var/lib/djbpkg/service-backups/NAME-YYYYMMDDTHHMMSSZ (a numeric suffix
 * when that exists), outside the directories svscan and `service status` scan.
 */

/** The parts of a definition the admin wrote or may have edited (never supervise/ or the log/main link). */
const KEPT = ['run', 'env', 'log/run', 'down'];

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function backupsDir(root: Root): string {
  return path.join(root.stateDir, 'service-backups');
}

/** Copies the kept parts of `p.definition` into a new dated directory; returns its path. */
export async function backupDefinition(root: Root, p: ServicePaths, nowMs: number): Promise<string> {
  const base = backupsDir(root);
  let dir = '';
  try {
    await mkdir(base, { recursive: true, mode: 0o700 });
    requireInsideRoot(root, base, 'the service backup directory', true);
    for (let n = 0; ; n++) {
      dir = path.join(base, `${p.name}-${stamp(nowMs)}${n === 0 ? '' : `-${n}`}`);
      try {
        await mkdir(dir, { mode: 0o700 });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw err;
      }
    }
    for (const rel of KEPT) {
      const from = path.join(p.definition, rel);
      if (!(await lstat(from).catch(() => undefined))) continue;
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true, mode: 0o700 });
      await cp(from, path.join(dir, rel), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, errorOnExist: true, force: false });
    }
  } catch (err) {
    throw ioError(`unable to keep a backup of ${p.definition}${dir ? ` in ${dir}` : ''}; nothing was replaced`, err);
  }
  return dir;
}
