import { lstat, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import * as fsx from '../posix/fsx.js';
import { mkdirRecorded } from './init.js';
import type { Made } from './init.js';
import type { Txn } from '../installed/txn.js';

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

/** `linkPath{new}` -> target, renamed over linkPath; a stale `{new}` (from a killed run) is removed first. */
async function swapLink(linkPath: string, target: string): Promise<void> {
  const tmp = `${linkPath}{new}`;
  await fsx.unlinkIfPresent(tmp);
  await fsx.symlink(target, tmp);
  await fsx.rename(tmp, linkPath);
}

/**
 * Makes one link as `NAME{new}` then renames it over NAME. A foreign object
 * (only reached with --force) is first moved aside to `NAME{djbpkg-old}`.
 * Returns undefined when the link was already right.
 */
export async function applyLink(link: WantedLink, madeDirs: Made[] = [], txn?: Txn): Promise<LinkUndo | undefined> {
  const s = await inspectLink(link);
  if (s.state === 'same') return undefined;
  await mkdirRecorded(path.dirname(link.path), 0o755, madeDirs, txn);
  try {
    let undo: LinkUndo;
    if (s.state === 'absent') {
      undo = { path: link.path, before: 'absent' };
      await txn?.note({ op: 'link', path: link.path, before: null });
    } else if (s.state === 'ours') {
      undo = { path: link.path, before: 'link', target: s.target };
      await txn?.note({ op: 'link', path: link.path, before: s.target });
    } else {
      const aside = `${link.path}{djbpkg-old}`;
      await txn?.note({ op: 'moved', path: link.path, aside });
      await txn?.note({ op: 'link', path: link.path, before: null });
      await fsx.rmTree(aside);
      await fsx.rename(link.path, aside);
      undo = { path: link.path, before: 'moved', aside };
    }
    await swapLink(link.path, link.target);
    return undo;
  } catch (err) {
    throw ioError(`unable to make link ${link.path}`, err);
  }
}

export async function undoLink(u: LinkUndo): Promise<void> {
  await fsx.unlinkIfPresent(`${u.path}{new}`);
  if (u.before === 'absent') await fsx.unlinkIfPresent(u.path);
  else if (u.before === 'link') await swapLink(u.path, u.target);
  else {
    await fsx.unlinkIfPresent(u.path);
    await fsx.rename(u.aside, u.path);
  }
}

/** After success: drop what --force moved aside. */
export async function commitLink(u: LinkUndo): Promise<void> {
  if (u.before === 'moved') await fsx.rmTree(u.aside);
}

export interface TreeSwap {
  finalDir: string;
  /** Where the staged tree was before it moved in. */
  stagedTree: string;
  /** Where the previous tree is after the exchange (the staged tree's old place), if there was one. */
  previous: string | undefined;
}

/**
 * Moves the staged tree into `finalDir` in one atomic step: an existing tree
 * is exchanged with the staged one (renameat2 RENAME_EXCHANGE), so that at
 * every instant `finalDir` is a complete tree and the links into it resolve;
 * the old tree then sits where the staged one was, until commit removes it.
 * The journal records the staged tree's inode first, so that recovery can
 * tell whether the exchange happened.
 */
export async function installTree(stagedTree: string, finalDir: string, txn?: Txn): Promise<TreeSwap> {
  let previous: string | undefined;
  try {
    await lstat(finalDir);
    previous = stagedTree;
  } catch {
    previous = undefined;
  }
  try {
    const ino = (await stat(stagedTree)).ino;
    await txn?.note({ op: 'tree', final: finalDir, staged: stagedTree, ino, previous: previous !== undefined });
    if (previous) await fsx.exchange(stagedTree, finalDir);
    else await fsx.renameNoReplace(stagedTree, finalDir);
  } catch (err) {
    throw ioError(`unable to move ${stagedTree} to ${finalDir}`, err);
  }
  return { finalDir, stagedTree, previous };
}

export async function undoTree(s: TreeSwap): Promise<void> {
  if (s.previous) await fsx.exchange(s.stagedTree, s.finalDir);
  else await fsx.rename(s.finalDir, s.stagedTree);
}
