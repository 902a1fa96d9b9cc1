import { realpathSync } from 'node:fs';
import path from 'node:path';
import { DjbError } from './errors.js';
import type { Root } from './root.js';

/**
 * Paths djbpkg acts on as root must stay inside ROOT, also when someone else
 * prepared the root and planted symlinks in it. These checks are by name
 * (lexically inside ROOT) and by the real path of what exists on the way.
 */

function within(base: string, p: string): boolean {
  if (base === '/') return p !== '/';
  const rel = path.relative(base, p);
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel);
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Why `p` is not inside ROOT, or undefined when it is: `p` must be absolute
 * and normal, lexically inside ROOT, and the deepest existing directory on its
 * way (`p` itself too when `followLast`) must really, symlinks resolved, lie
 * inside ROOT's real path. Without `followLast`, the last component is not
 * followed: the caller acts on it with lstat, rename or unlink.
 */
export function outsideRoot(root: Root, p: string, followLast = false): string | undefined {
  if (!path.isAbsolute(p) || path.resolve(p) !== p) return 'is not an absolute, normal path';
  if (!within(root.dir, p)) return root.isSystemRoot ? 'is ROOT itself' : `lies outside ROOT ${root.dir}`;
  const realRoot = realOr(root.dir);
  let at = followLast ? p : path.dirname(p);
  for (;;) {
    try {
      const real = realpathSync(at);
      if (real !== realRoot && !within(realRoot, real)) return `leads out of ROOT through a symlink (${at} is really ${real})`;
      return undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return `cannot be examined (${at}: ${code ?? String(err)})`;
      if (at === path.dirname(at)) return undefined;
      at = path.dirname(at);
    }
  }
}

/** `p`, when it lies inside ROOT (see outsideRoot); else one line, exit 100, nothing done. */
export function requireInsideRoot(root: Root, p: string, what: string, followLast = false): string {
  const why = outsideRoot(root, p, followLast);
  if (why) {
    throw new DjbError('E_CONFLICT', `not acting on ${what} ${p}: it ${why}`, {
      temporary: false,
      hint: 'djbpkg acts only inside ROOT; a symlink there that leads out was put there by someone else: look at it and remove it by hand',
    });
  }
  return p;
}
