import { DjbError } from '../core/errors.js';
import { DEV_NULL } from './parse.js';
import type { FilePatch } from './types.js';

/** The strip level tried first, as `patch -p1`; then 0, then deeper prefixes. */
export const DEFAULT_STRIP = 1;
const MAX_STRIP = 8;

/**
 * `path` without its first `strip` components, as `patch -pN` does, or
 * `undefined` when it has too few. Repeated slashes count as one.
 */
export function stripPath(path: string, strip: number): string | undefined {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length <= strip) return undefined;
  return parts.slice(strip).join('/');
}

/** The path of the file that a patch reads (old side) or writes (new side for created files). */
export function patchedPath(file: FilePatch): string {
  return file.change === 'create' ? file.newPath : file.oldPath;
}

/**
 * The tree-relative path a file patch targets at `strip`. Refuses (E_PATCH)
 * an absolute path or any `..` component anywhere in the written path, so a
 * patch can never name a file outside the tree it is applied to.
 */
export function targetPath(file: FilePatch, strip: number): string {
  const written = patchedPath(file);
  if (written === DEV_NULL) throw new DjbError('E_PATCH', 'both sides of a file patch are /dev/null');
  if (written.startsWith('/')) {
    throw new DjbError('E_PATCH', `refusing absolute path ${written} in patch`);
  }
  if (written.split('/').includes('..')) {
    throw new DjbError('E_PATCH', `refusing path ${written} in patch: it climbs out with ..`);
  }
  const rel = stripPath(written, strip);
  if (rel === undefined) {
    throw new DjbError('E_PATCH', `path ${written} in patch has fewer than ${strip + 1} components (-p${strip})`);
  }
  return rel;
}

function isSafe(written: string): boolean {
  return written !== DEV_NULL && !written.startsWith('/') && !written.split('/').includes('..');
}

/**
 * The strip level at which every file the patch modifies or deletes exists:
 * 1 first (the convention), then 0, then 2.. (for copies whose paths carry a
 * longer prefix such as `admin/daemontools-0.76/src/error.h`). A patch that
 * only creates files, or whose files exist at no level, gets 1; applying it
 * then names the file that is missing.
 */
export function chooseStrip(files: FilePatch[], exists: (relPath: string) => boolean): number {
  const existing = files.filter((f) => f.change !== 'create').map(patchedPath);
  if (existing.length === 0 || !existing.every(isSafe)) return DEFAULT_STRIP;
  const levels = [DEFAULT_STRIP, 0];
  for (let n = 2; n <= MAX_STRIP; n++) levels.push(n);
  for (const level of levels) {
    const found = existing.every((p) => {
      const rel = stripPath(p, level);
      return rel !== undefined && exists(rel);
    });
    if (found) return level;
  }
  return DEFAULT_STRIP;
}
