import { lstat, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import { mkdirRecorded } from './init.js';
import type { Made } from './init.js';

/** One symlink the layout wants: `path` (absolute, under ROOT) -> `target` (relative). */
export interface WantedLink {
  path: string;
  target: string;
  /** Decides whether an existing symlink target (as read) is a previous link of ours. */
  ours(existingTarget: string): boolean;
}

export interface PackageNames {
  category: string;
  name: string;
  version: string;
}

export function versionDirName(p: PackageNames): string {
  return `${p.name}-${p.version}`;
}

/** Resolves a link target read at `linkPath` the way the target system would (absolute = under ROOT). */
function resolveTarget(root: Root, linkPath: string, target: string): string {
  return target.startsWith('/') ? root.join(target) : path.resolve(path.dirname(linkPath), target);
}

/**
 * The links upstream's package/upgrade makes, as relative links so that the
 * root works in place and as a future `/`:
 * `package/CAT/NAME -> NAME-VERSION`, `command/X -> ../package/CAT/NAME/command/X`,
 * `usr/local/bin/X -> ../../../command/X`.
 */
export function wantedLinks(root: Root, p: PackageNames, commands: readonly string[]): WantedLink[] {
  const catDir = root.categoryDir(p.category);
  const current = path.join(catDir, p.name);
  const versionPrefix = `${p.name}-`;
  const links: WantedLink[] = [
    {
      path: current,
      target: versionDirName(p),
      ours: (t) => {
        const r = resolveTarget(root, current, t);
        return path.dirname(r) === catDir && path.basename(r).startsWith(versionPrefix);
      },
    },
  ];
  for (const cmd of commands) {
    const link = path.join(root.commandDir, cmd);
    links.push({
      path: link,
      target: path.relative(root.commandDir, path.join(current, 'command', cmd)),
      ours: (t) => {
        const r = resolveTarget(root, link, t);
        const pkg = path.dirname(path.dirname(r));
        return path.basename(r) === cmd && path.basename(path.dirname(r)) === 'command' && path.dirname(pkg) === catDir &&
          (path.basename(pkg) === p.name || path.basename(pkg).startsWith(versionPrefix));
      },
    });
  }
  for (const cmd of commands) {
    const link = path.join(root.usrLocalBin, cmd);
    const cmdLink = path.join(root.commandDir, cmd);
    links.push({
      path: link,
      target: path.relative(root.usrLocalBin, cmdLink),
      ours: (t) => resolveTarget(root, link, t) === cmdLink,
    });
  }
  return links;
}

export type LinkState =
  | { state: 'absent' }
  | { state: 'same' }
  | { state: 'ours'; target: string }
  | { state: 'foreign'; what: string };

export async function inspectLink(link: WantedLink): Promise<LinkState> {
  let st;
  try {
    st = await lstat(link.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    throw ioError(`unable to stat ${link.path}`, err);
  }
  if (!st.isSymbolicLink()) return { state: 'foreign', what: st.isDirectory() ? 'a directory' : 'a file' };
  const target = await readlink(link.path);
  if (target === link.target) return { state: 'same' };
  if (link.ours(target)) return { state: 'ours', target };
  return { state: 'foreign', what: `a link to ${target}` };
}

export interface Conflict {
  path: string;
  what: string;
}

/** Existing objects the layout would replace that belong to something else. */
export async function findConflicts(links: readonly WantedLink[]): Promise<Conflict[]> {
  const out: Conflict[] = [];
  for (const l of links) {
    const s = await inspectLink(l);
    if (s.state === 'foreign') out.push({ path: l.path, what: s.what });
  }
  return out;
}

export function conflictError(root: Root, conflicts: readonly Conflict[]): DjbError {
  const list = conflicts.map((c) => `${root.display(c.path)} (${c.what})`).join(', ');
  return new DjbError('E_CONFLICT', `not replacing what belongs to something else: ${list}`, {
    hint: 'remove or rename them, or run install with --force to replace them',
  });
}

/** What one applied link replaced, so that it can be put back. */
export type LinkUndo =
  | { path: string; before: 'absent' }
  | { path: string; before: 'link'; target: string }
  | { path: string; before: 'moved'; aside: string };

async function swapLink(linkPath: string, target: string): Promise<void> {
  const tmp = `${linkPath}{new}`;
  await rm(tmp, { force: true });
  await symlink(target, tmp);
  await rename(tmp, linkPath);
}

/**
 * Makes one link as `NAME{new}` then renames it over NAME. A foreign object
 * (only reached with --force) is first moved aside to `NAME{djbpkg-old}`.
 * Returns undefined when the link was already right.
 */
export async function applyLink(link: WantedLink, madeDirs: Made[] = []): Promise<LinkUndo | undefined> {
  const s = await inspectLink(link);
  if (s.state === 'same') return undefined;
  await mkdirRecorded(path.dirname(link.path), 0o755, madeDirs);
  try {
    let undo: LinkUndo;
    if (s.state === 'absent') undo = { path: link.path, before: 'absent' };
    else if (s.state === 'ours') undo = { path: link.path, before: 'link', target: s.target };
    else {
      const aside = `${link.path}{djbpkg-old}`;
      await rm(aside, { recursive: true, force: true });
      await rename(link.path, aside);
      undo = { path: link.path, before: 'moved', aside };
    }
    await swapLink(link.path, link.target);
    return undo;
  } catch (err) {
    throw ioError(`unable to make link ${link.path}`, err);
  }
}

export async function undoLink(u: LinkUndo): Promise<void> {
  if (u.before === 'absent') await unlink(u.path).catch(() => {});
  else if (u.before === 'link') await swapLink(u.path, u.target);
  else {
    await rm(u.path, { force: true });
    await rename(u.aside, u.path);
  }
}

/** After success: drop what --force moved aside. */
export async function commitLink(u: LinkUndo): Promise<void> {
  if (u.before === 'moved') await rm(u.aside, { recursive: true, force: true });
}

export interface TreeSwap {
  finalDir: string;
  /** Where the staged tree was before it moved in. */
  stagedTree: string;
  /** Where the previous tree was moved, if there was one. */
  previous: string | undefined;
}

/**
 * Moves the staged tree into `finalDir`. An existing tree is first renamed
 * aside (kept until commit), then the staged one renamed in.
 */
export async function installTree(stagedTree: string, finalDir: string, asideDir: string): Promise<TreeSwap> {
  let previous: string | undefined;
  try {
    await lstat(finalDir);
    previous = path.join(asideDir, 'previous');
  } catch {
    previous = undefined;
  }
  try {
    if (previous) await rename(finalDir, previous);
    await rename(stagedTree, finalDir);
  } catch (err) {
    if (previous) await rename(previous, finalDir).catch(() => {});
    throw ioError(`unable to move ${stagedTree} to ${finalDir}`, err);
  }
  return { finalDir, stagedTree, previous };
}

export async function undoTree(s: TreeSwap): Promise<void> {
  await rename(s.finalDir, s.stagedTree);
  if (s.previous) await rename(s.previous, s.finalDir);
}
