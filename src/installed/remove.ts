import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import { PACKAGE_VERB, djbpkgCommand } from '../core/hint.js';
import type { Root } from '../core/root.js';
import { SYSTEMD_UNIT, hasFence, removeFence, systemdUnitText } from '../boot/boot.js';
export { removeFence } from '../boot/boot.js';
import { requirePackage } from './installed.js';
import { assertInsideRoot, lexists, replaceFile } from '../core/fs.js';
import * as fsx from '../posix/fsx.js';
import { Txn } from './txn.js';

/**
 * `djbpkg remove NAME[@VERSION]`. Services belong to the admin: nothing under
 * ROOT/service is touched and no process is signalled. Only links that point
 * into the removed package are removed, never a link that points elsewhere.
 */

export type RemoveAction =
  | { kind: 'unlink'; path: string; target: string }
  | { kind: 'tree'; path: string }
  | { kind: 'unfence'; path: string }
  | { kind: 'unit'; path: string }
  | { kind: 'rmdir'; path: string };

export interface RemovePlan {
  name: string;
  category: string;
  /** Versions whose directories go. */
  versions: string[];
  /** True when the whole package goes (the `NAME` link included). */
  whole: boolean;
  actions: RemoveAction[];
}

export interface RemoveRequest {
  name: string;
  version: string | undefined;
  /** Also the boot hook and an empty ROOT/service; only when the whole package goes. */
  purge: boolean;
}

/** `NAME` or `NAME@VERSION`. */
export function splitRemoveSpec(spec: string): { name: string; version: string | undefined } {
  const at = spec.indexOf('@');
  if (at < 0) return { name: spec, version: undefined };
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  if (name === '' || version === '') throw new DjbError('E_USAGE', `bad package spec ${spec}`, { hint: 'use NAME or NAME@VERSION' });
  return { name, version };
}

async function symlinks(dir: string): Promise<{ path: string; target: string }[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return [];
  }
  const out: { path: string; target: string }[] = [];
  for (const n of names) {
    // A `{new}` or `{djbpkg-old}` name is an unfinished swap, the journal's to clean up.
    if (n.endsWith('{new}') || n.endsWith('{djbpkg-old}')) continue;
    const p = path.join(dir, n);
    try {
      if ((await lstat(p)).isSymbolicLink()) out.push({ path: p, target: await readlink(p) });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function resolveIn(root: Root, linkPath: string, target: string): string {
  return target.startsWith('/') ? root.join(target) : path.resolve(path.dirname(linkPath), target);
}

/** True when `resolved` lies inside one of `dirs` (or is one of them). */
function within(resolved: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => resolved === d || resolved.startsWith(d + path.sep));
}

/** /command, /usr/local/bin and man8 links whose targets lie in `dirs`, or (for /usr/local/bin) in such a /command link. */
export async function linksInto(root: Root, dirs: readonly string[]): Promise<{ path: string; target: string }[]> {
  const cmd = (await symlinks(root.commandDir)).filter((l) => within(resolveIn(root, l.path, l.target), dirs));
  const cmdPaths = new Set(cmd.map((l) => l.path));
  const bin = (await symlinks(root.usrLocalBin)).filter((l) => {
    const r = resolveIn(root, l.path, l.target);
    return cmdPaths.has(r) || within(r, dirs);
  });
  const man = (await symlinks(root.man8Dir)).filter((l) => within(resolveIn(root, l.path, l.target), dirs));
  return [...cmd, ...bin, ...man];
}

async function readOr(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

function systemdPaths(root: Root): { unit: string; wants: string } {
  return { unit: path.join(root.systemdSystemDir, SYSTEMD_UNIT), wants: path.join(root.systemdSystemDir, 'multi-user.target.wants', SYSTEMD_UNIT) };
}

/** What --purge removes: djbpkg's fenced boot blocks, its own systemd unit, and ROOT/service when empty. */
async function purgeActions(root: Root, withServiceDir = true): Promise<RemoveAction[]> {
  const out: RemoveAction[] = [];
  for (const file of [root.inittab, root.rcLocal]) {
    const text = await readOr(file);
    if (text !== undefined && hasFence(text)) out.push({ kind: 'unfence', path: file });
  }
  const { unit, wants } = systemdPaths(root);
  const unitText = await readOr(unit);
  const marker = systemdUnitText().split('\n')[0]!;
  if (unitText !== undefined && unitText.startsWith(marker)) {
    const w = await symlinks(path.dirname(wants));
    for (const l of w) if (l.path === wants) out.push({ kind: 'unlink', path: wants, target: l.target });
    out.push({ kind: 'unit', path: unit });
  }
  let entries: string[] | undefined;
  try {
    entries = await readdir(root.serviceDir);
  } catch {
    entries = undefined;
  }
  if (withServiceDir && entries && entries.length === 0) out.push({ kind: 'rmdir', path: root.serviceDir });
  return out;
}

/** Looks at the root and says what remove would do; touches nothing. */
export async function planRemove(root: Root, req: RemoveRequest): Promise<RemovePlan> {
  const pkg = await requirePackage(root, req.name);
  const catDir = path.dirname(pkg.link);
  const all = pkg.versions.map((v) => v.version);
  let versions: string[];
  let whole: boolean;
  if (req.version === undefined) {
    versions = all;
    whole = true;
  } else {
    if (!all.includes(req.version)) {
      throw new DjbError('E_NOT_INSTALLED', `${req.name} ${req.version} is not installed under ${root.display(root.packageDir)}`, {
        hint: `installed versions: ${all.join(', ') || '(none)'}`,
      });
    }
    if (req.version === pkg.current && all.length > 1) {
      const other = all.filter((v) => v !== req.version).at(-1)!;
      throw new DjbError('E_USAGE', `${req.name} ${req.version} is the current version; not removing it while other versions are installed`, {
        hint: `switch first: ${djbpkgCommand(root, ['install', `${req.name}@${other}`], PACKAGE_VERB)}, then ${djbpkgCommand(root, ['remove', `${req.name}@${req.version}`])}`,
      });
    }
    versions = [req.version];
    whole = all.length === 1;
  }
  const dirs = versions.map((v) => path.join(catDir, `${pkg.name}-${v}`));
  const actions: RemoveAction[] = (await linksInto(root, whole ? [pkg.link, ...dirs] : dirs)).map((l) => ({ kind: 'unlink' as const, ...l }));
  if (whole && (await lexists(pkg.link))) {
    const t = await readlink(pkg.link).catch(() => undefined);
    if (t !== undefined) actions.push({ kind: 'unlink', path: pkg.link, target: t });
  }
  for (const d of dirs) actions.push({ kind: 'tree', path: d });
  // The boot hook starts /command/svscanboot: when that goes, the hook goes
  // with it (a hook pointing at a missing command fails at every boot).
  const startsHook = actions.some((a) => a.kind === 'unlink' && a.path === path.join(root.commandDir, 'svscanboot'));
  if (req.purge && whole) actions.push(...(await purgeActions(root)));
  else if (whole && startsHook) actions.push(...(await purgeActions(root, false)));
  return { name: pkg.name, category: pkg.category, versions, whole, actions };
}

/** One line per action, for --dry-run and the report. */
export function describeAction(root: Root, a: RemoveAction): string {
  const p = root.display(a.path);
  if (a.kind === 'unlink') return `remove link ${p} -> ${a.target}`;
  if (a.kind === 'tree') return `remove ${p}`;
  if (a.kind === 'unfence') return `remove the djbpkg svscanboot block from ${p}`;
  if (a.kind === 'unit') return `remove the djbpkg systemd unit ${p}`;
  return `remove the empty directory ${p}`;
}

/**
 * Carries out the plan as one transaction. First every change that can be
 * undone, in order (links first, so that no link ever points into a
 * half-removed tree; each tree is renamed aside, not yet deleted); then the
 * journal's commit; only then are the trees deleted. A failure or a signal
 * before the commit puts everything back; a kill after it leaves only the
 * deletion, which the next djbpkg command finishes. Caller holds the root lock.
 */
export async function applyRemove(root: Root, plan: RemovePlan): Promise<void> {
  await assertInsideRoot(root, [root.stateDir, root.commandDir, root.usrLocalBin, root.serviceDir, root.etcDir, root.systemdSystemDir]);
  const txn = await Txn.begin(root, 'remove', `${plan.name} ${plan.versions.join(', ')}`);
  const asides: string[] = [];
  try {
    await txn.noteAll(plan.actions.flatMap((a) => (a.kind === 'unlink' ? [{ op: 'unlinked' as const, path: a.path, target: a.target }] : [])));
    for (const a of plan.actions) {
      try {
        if (a.kind === 'unlink') {
          await fsx.unlinkIfPresent(a.path);
        } else if (a.kind === 'unit') {
          await txn.noteFile(a.path);
          await fsx.unlinkIfPresent(a.path);
        } else if (a.kind === 'tree') {
          const aside = path.join(path.dirname(a.path), `.${path.basename(a.path)}.removing`);
          await fsx.rmTree(aside);
          await txn.note({ op: 'aside', path: a.path, aside });
          await fsx.rename(a.path, aside);
          asides.push(aside);
        } else if (a.kind === 'unfence') {
          const text = await readFile(a.path, 'utf8');
          await replaceFile(a.path, removeFence(text), 0o644, txn);
        } else {
          await txn.note({ op: 'rmdir', path: a.path });
          await fsx.rmdir(a.path);
        }
      } catch (err) {
        throw ioError(`unable to ${a.kind === 'unfence' ? 'edit' : 'remove'} ${a.path}`, err);
      }
    }
    await txn.commit();
  } catch (err) {
    // A rollback that fails itself leaves the journal: the next command finishes it.
    await txn.rollback().catch(() => {});
    throw err;
  }
  // Committed: the deletions that remain are finished here, or by the next
  // djbpkg command on this root when they fail (end() rolls forward again).
  for (const aside of asides) await fsx.rmTree(aside).catch(() => {});
  try {
    await txn.end();
  } catch (err) {
    throw ioError(`removed ${plan.name}, but the clean-up failed (the next djbpkg command on this root finishes it)`, err);
  }
}
