import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ioError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import type { PackageNames, WantedLink } from './layout.js';

/**
 * Manual pages: djbpkg ships one roff page per runtime program (and its own,
 * djbpkg.8) in its `man/` directory. An install copies the pages of the
 * package's commands into PACKAGE/man/man8/ (so the package owns them and
 * they are in its manifest) and links each as
 * ROOT/usr/local/share/man/man8/NAME.8 through the version-less package link,
 * as /command links are made.
 */

/** Where the pages of the running djbpkg are (the checkout's or the npm package's man/). */
export function manSourceDir(): string {
  return fileURLToPath(new URL('../../man/', import.meta.url));
}

/** Relative path of a page inside a package directory. */
export function manPageRel(name: string): string {
  return `man/man8/${name}.8`;
}

/**
 * The pages a package with these commands gets: those of its commands that
 * djbpkg has a page for, plus djbpkg.8 when there is any (it is the runtime's
 * package that carries djbpkg's own page, so no two packages want it).
 */
export function manPageNames(commands: readonly string[], src = manSourceDir()): string[] {
  const names = commands.filter((c) => existsSync(path.join(src, `${c}.8`)));
  if (names.length > 0 && existsSync(path.join(src, 'djbpkg.8'))) names.push('djbpkg');
  return names;
}

/** ROOT/usr/local/share/man/man8/NAME.8 -> ../../../../../package/CAT/NAME/man/man8/NAME.8 for each page. */
export function manLinks(root: Root, p: PackageNames, names: readonly string[]): WantedLink[] {
  const catDir = root.categoryDir(p.category);
  const current = path.join(catDir, p.name);
  return names.map((n) => {
    const link = path.join(root.man8Dir, `${n}.8`);
    return {
      path: link,
      target: path.relative(root.man8Dir, path.join(current, manPageRel(n))),
      ours: (t: string) => {
        const r = t.startsWith('/') ? root.join(t) : path.resolve(path.dirname(link), t);
        const pkg = path.dirname(path.dirname(path.dirname(r)));
        return path.basename(r) === `${n}.8` && path.dirname(pkg) === catDir && (path.basename(pkg) === p.name || path.basename(pkg).startsWith(`${p.name}-`));
      },
    };
  });
}

/** Copies the pages into `tree/man/man8/` (mode 0644); returns the names copied. */
export async function copyManPages(tree: string, names: readonly string[], src = manSourceDir()): Promise<string[]> {
  if (names.length === 0) return [];
  const dir = path.join(tree, 'man', 'man8');
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    for (const n of names) {
      const dest = path.join(tree, manPageRel(n));
      await copyFile(path.join(src, `${n}.8`), dest);
      await chmod(dest, 0o644);
    }
  } catch (err) {
    throw ioError(`unable to copy manual pages into ${dir}`, err);
  }
  return [...names];
}
