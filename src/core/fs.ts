import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, describeCause } from './errors.js';
import type { Root } from './root.js';

/** True when something (any file type, a dangling symlink included) is at `p`. */
export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** The real path of `p`'s nearest existing ancestor (itself included), with the rest appended. */
async function realUpTo(p: string): Promise<string> {
  let head = p;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(await realpath(head), ...tail.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const up = path.dirname(head);
      if (up === head) return p;
      tail.push(path.basename(head));
      head = up;
    }
  }
}

/**
 * Refuses any of `dirs` (paths under ROOT) that resolves, through a symlink
 * somewhere on its way, to a place outside the root: a planted `ROOT/etc ->
 * /etc` must not make djbpkg write to the host.
 */
export async function assertInsideRoot(root: Root, dirs: readonly string[]): Promise<void> {
  if (root.isSystemRoot) return;
  let base: string;
  try {
    base = await realpath(root.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new DjbError('E_IO', `unable to resolve ${root.dir}: ${describeCause(err)}`, { cause: err });
  }
  for (const d of dirs) {
    const real = await realUpTo(d).catch(() => d);
    const rel = path.relative(base, real);
    if (rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) {
      throw new DjbError('E_CONFLICT', `${d} leads outside the root ${root.dir} (to ${real}); refusing to write there`, {
        hint: `replace the symlink on the way to ${d} by a directory`,
      });
    }
  }
}
