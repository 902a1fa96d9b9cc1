import { stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import { PACKAGE_MODE, type Root } from '../core/root.js';
import { lexists, mkdirs } from '../core/fs.js';
import * as fsx from '../posix/fsx.js';
import type { Txn } from '../installed/txn.js';

export { PACKAGE_MODE };

/** The conventional directories `djbpkg init` makes besides /package. */
export const CONVENTIONAL_DIRS = ['var/svc.d', 'var/multilog', 'etc/tcprules'] as const;

/** One change init made, in order, so that it can be undone. */
export type Made = { kind: 'dir'; path: string } | { kind: 'link'; path: string };

export interface InitStep {
  path: string;
  /** What is there now, or what would be made. */
  action: 'exists' | 'mkdir' | 'symlink';
  detail: string;
  /** mkdir: the mode to give it. */
  mode?: number;
  /** symlink: what it points to. */
  target?: string;
}

/** Plans (and with `apply` performs) making ROOT/package, optionally as a link to `packageHome`. */
export async function planPackageHome(root: Root, packageHome?: string): Promise<InitStep[]> {
  const steps: InitStep[] = [];
  const pkg = root.packageDir;
  if (await lexists(pkg)) {
    const st = await stat(pkg).catch(() => undefined);
    if (!st?.isDirectory()) throw new DjbError('E_CONFLICT', `${root.display(pkg)} exists and is not a directory`);
    steps.push({ path: pkg, action: 'exists', detail: `${root.display(pkg)} exists; leaving it alone` });
    return steps;
  }
  if (packageHome) {
    const home = path.resolve(packageHome);
    const rel = path.relative(root.dir, home);
    const target = rel.startsWith('..') || path.isAbsolute(rel) ? home : rel;
    steps.push(
      (await lexists(home))
        ? { path: home, action: 'exists', detail: `${home} exists; leaving its mode alone` }
        : { path: home, action: 'mkdir', mode: PACKAGE_MODE, detail: `create ${home} with mode 1755` },
    );
    steps.push({ path: pkg, action: 'symlink', target, detail: `link ${root.display(pkg)} -> ${target}` });
  } else {
    steps.push({ path: pkg, action: 'mkdir', mode: PACKAGE_MODE, detail: `create ${root.display(pkg)} with mode 1755` });
  }
  return steps;
}

export async function planConventionalDirs(root: Root): Promise<InitStep[]> {
  const steps: InitStep[] = [];
  for (const rel of CONVENTIONAL_DIRS) {
    const p = root.join(rel);
    steps.push(
      (await lexists(p))
        ? { path: p, action: 'exists', detail: `${root.display(p)} exists` }
        : { path: p, action: 'mkdir', mode: 0o755, detail: `create ${root.display(p)}` },
    );
  }
  return steps;
}

/** Creates every missing parent of `dir` and `dir` itself, recording each one made. */
export async function mkdirRecorded(dir: string, mode: number, made: Made[], txn?: Txn): Promise<void> {
  await mkdirs(dir, { mode, before: async (d) => txn?.note({ op: 'mkdir', path: d }), made: (d) => made.push({ kind: 'dir', path: d }) });
}

/** Carries out init steps; returns what was made (for undo). */
export async function applyInitSteps(steps: readonly InitStep[], made: Made[] = [], txn?: Txn): Promise<Made[]> {
  for (const s of steps) {
    if (s.action === 'mkdir') await mkdirRecorded(s.path, s.mode ?? 0o755, made, txn);
    else if (s.action === 'symlink' && s.target !== undefined) {
      await mkdirRecorded(path.dirname(s.path), 0o755, made);
      try {
        await symlink(s.target, s.path);
      } catch (err) {
        throw ioError(`unable to link ${s.path}`, err);
      }
      made.push({ kind: 'link', path: s.path });
    }
  }
  return made;
}

/** Removes, newest first, what applyInitSteps made. */
export async function undoMade(made: readonly Made[]): Promise<void> {
  for (const m of [...made].reverse()) {
    if (m.kind === 'link') await fsx.unlinkIfPresent(m.path).catch(() => {});
    else await fsx.rmdir(m.path).catch(() => {});
  }
}
