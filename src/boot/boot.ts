import { spawnSync } from 'node:child_process';
import { lstat, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import { lexists, mkdirs, replaceFile, restoreFile } from '../core/fs.js';
import type { FileBefore, MkdirsOptions } from '../core/fs.js';
import * as fsx from '../posix/fsx.js';

export const BOOT_MODES = ['auto', 'inittab', 'rclocal', 'systemd', 'none'] as const;
export type BootRequest = (typeof BOOT_MODES)[number];
export type BootMode = Exclude<BootRequest, 'auto'>;

export const FENCE_BEGIN = '# djbpkg daemontools begin';
export const FENCE_END = '# djbpkg daemontools end';
export const INITTAB_LINE = 'SV:123456:respawn:/command/svscanboot';
export const RCLOCAL_CSH_LINE = "csh -cf '/command/svscanboot &'";
export const RCLOCAL_SH_LINE = "/bin/sh -c '/command/svscanboot &'";
export const SYSTEMD_UNIT = 'svscan.service';
const UNIT_MARKER = '# djbpkg daemontools: starts svscan through svscanboot';

export interface BootChoice {
  mode: BootMode;
  why: string;
}

/**
 * `auto`: systemd when ROOT/run/systemd/system exists (systemd's own test for
 * "booted with systemd"), else inittab when ROOT/etc/inittab exists, else rc.local.
 */
export async function chooseBoot(root: Root, requested: BootRequest): Promise<BootChoice> {
  if (requested !== 'auto') return { mode: requested, why: `--boot ${requested}` };
  if (await lexists(root.systemdRunDir)) return { mode: 'systemd', why: `${root.display(root.systemdRunDir)} exists: systemd runs this root` };
  if (await lexists(root.inittab)) return { mode: 'inittab', why: `${root.display(root.inittab)} exists` };
  return { mode: 'rclocal', why: 'no systemd and no inittab' };
}

export interface BootEdit {
  /** The file's new text (unchanged when status is not 'added'/'updated'). */
  text: string;
  status: 'added' | 'updated' | 'present' | 'hand-written';
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * Puts exactly one fenced svscanboot `line` into a boot file's text. A fenced
 * block of ours is kept or corrected; any other line naming svscanboot is the
 * admin's and wins (nothing added). In rc.local the block goes before a final
 * `exit 0`; a missing rc.local starts with `#!/bin/sh`.
 */
export function editBootText(old: string | undefined, line: string, kind: 'inittab' | 'rclocal'): BootEdit {
  const block = [FENCE_BEGIN, line, FENCE_END];
  if (old === undefined) {
    const head = kind === 'rclocal' ? ['#!/bin/sh'] : [];
    return { text: [...head, ...block].join('\n') + '\n', status: 'added' };
  }
  const lines = splitLines(old);
  const begin = lines.indexOf(FENCE_BEGIN);
  const end = begin < 0 ? -1 : lines.indexOf(FENCE_END, begin);
  if (begin >= 0 && end > begin) {
    const inside = lines.slice(begin + 1, end);
    if (inside.length === 1 && inside[0] === line) return { text: old, status: 'present' };
    const next = [...lines.slice(0, begin), ...block, ...lines.slice(end + 1)];
    return { text: next.join('\n') + '\n', status: 'updated' };
  }
  if (lines.some((l) => l.includes('svscanboot'))) return { text: old, status: 'hand-written' };
  let at = lines.length;
  if (kind === 'rclocal') {
    let last = lines.length - 1;
    while (last >= 0 && lines[last]!.trim() === '') last--;
    if (last >= 0 && /^exit\s+0\s*(#.*)?$/.test(lines[last]!.trim())) at = last;
  }
  const next = [...lines.slice(0, at), ...block, ...lines.slice(at)];
  return { text: next.join('\n') + '\n', status: 'added' };
}

/**
 * Where the boot edits record each change before making it: the install's
 * journal (`Txn` of installed/txn.ts) is one. Declared here so that boot/ needs
 * nothing from the layers above it.
 */
export interface BootJournal {
  note(record: { op: 'mkdir'; path: string } | { op: 'link'; path: string; before: string | null }): Promise<void>;
  noteFile(file: string): Promise<void>;
}

/** mkdirs options that journal each directory before making it and keep it for undo. */
function journaled(made: string[], txn?: BootJournal): MkdirsOptions {
  return { before: async (dir) => txn?.note({ op: 'mkdir', path: dir }), made: (dir) => made.push(dir) };
}

/** The hint when a boot file is a symlink or not a file. */
function bootFileHint(file: string): string {
  return `replace ${file} by a regular file, or choose another --boot`;
}

export interface BootPlan {
  choice: BootChoice;
  /** The file edited (or the unit), if any. */
  file: string | undefined;
  /** The line or unit text djbpkg wants there. */
  line: string | undefined;
  /** Status the edit would have, computed from the file as it is now. */
  status: BootEdit['status'] | 'none';
  notes: string[];
}

export function systemdUnitText(): string {
  return [
    UNIT_MARKER,
    '[Unit]',
    'Description=daemontools svscan (/command/svscanboot)',
    'After=local-fs.target',
    '',
    '[Service]',
    'ExecStart=/command/svscanboot',
    'Restart=always',
    'KillMode=process',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

function unitPath(root: Root): string {
  return path.join(root.systemdSystemDir, SYSTEMD_UNIT);
}
function wantsPath(root: Root): string {
  return path.join(root.systemdSystemDir, 'multi-user.target.wants', SYSTEMD_UNIT);
}

async function readOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(`unable to read ${file}`, err);
  }
}

/** Looks at the root and says what the boot stage would do; touches nothing. */
export async function planBoot(root: Root, requested: BootRequest): Promise<BootPlan> {
  const choice = await chooseBoot(root, requested);
  const notes: string[] = [];
  if (choice.mode === 'none') return { choice, file: undefined, line: undefined, status: 'none', notes: ['--boot none: not hooking svscanboot into boot'] };
  if (choice.mode === 'systemd') {
    const file = unitPath(root);
    const old = await readOrUndefined(file);
    const text = systemdUnitText();
    let status: BootEdit['status'];
    if (old === undefined) status = 'added';
    else if (!old.startsWith(UNIT_MARKER)) status = 'hand-written';
    else status = old === text ? 'present' : 'updated';
    if (!(await lexists(wantsPath(root))) && status !== 'hand-written') {
      notes.push(`enable ${SYSTEMD_UNIT} by its link in multi-user.target.wants`);
      if (status === 'present') status = 'updated';
    }
    return { choice, file, line: 'ExecStart=/command/svscanboot', status, notes };
  }
  if (choice.mode === 'inittab') {
    const file = root.inittab;
    const edit = editBootText(await readOrUndefined(file), INITTAB_LINE, 'inittab');
    return { choice, file, line: INITTAB_LINE, status: edit.status, notes };
  }
  const file = root.rcLocal;
  let hasCsh = false;
  for (const c of root.cshCandidates) if (await lexists(c)) hasCsh = true;
  const line = hasCsh ? RCLOCAL_CSH_LINE : RCLOCAL_SH_LINE;
  if (!hasCsh) notes.push(`csh is not installed on this root (${root.cshCandidates.map((c) => root.display(c)).join(', ')}); using ${RCLOCAL_SH_LINE}`);
  const old = await readOrUndefined(file);
  const edit = editBootText(old, line, 'rclocal');
  if (old !== undefined && (await lexists(root.systemdRunDir))) {
    const mode = (await stat(file)).mode;
    if (!old.startsWith('#!') || (mode & 0o111) === 0) {
      notes.push(`warning: systemd runs this root and ${root.display(file)} lacks a #! line or the execute bit: systemd will not run it`);
    }
  }
  return { choice, file, line, status: edit.status, notes };
}

/** What the boot stage changed, to undo it. */
export interface BootUndo {
  files: FileBefore[];
  links: string[];
  /** Directories made, in creation order. */
  dirs: string[];
}

/**
 * Adds the svscanboot hook the plan describes (caller holds the root lock).
 * Signals init / reloads systemd only when ROOT is `/`.
 */
export async function applyBoot(root: Root, plan: BootPlan, undo: BootUndo, txn?: BootJournal): Promise<string[]> {
  const notes = [...plan.notes];
  const { mode } = plan.choice;
  notes.push(...(await removeOtherHooks(root, mode, undo, txn)));
  if (mode === 'none' || !plan.file) return notes;
  if (plan.status === 'hand-written') {
    notes.push(`${root.display(plan.file)} already starts svscanboot (written by hand); leaving it alone`);
    return notes;
  }
  if (plan.status === 'present') {
    notes.push(`${root.display(plan.file)} already starts svscanboot; leaving it alone`);
    return notes;
  }
  if (mode === 'systemd') {
    const old = await readOrUndefined(plan.file);
    await mkdirs(path.dirname(plan.file), journaled(undo.dirs, txn));
    if (old !== systemdUnitText()) undo.files.push(await replaceFile(plan.file, systemdUnitText(), 0o644, txn, bootFileHint(plan.file)));
    const wants = wantsPath(root);
    if (!(await lexists(wants))) {
      await mkdirs(path.dirname(wants), journaled(undo.dirs, txn));
      const tmp = `${wants}{new}`;
      await txn?.note({ op: 'link', path: wants, before: null });
      try {
        await fsx.unlinkIfPresent(tmp);
        await fsx.symlink(`../${SYSTEMD_UNIT}`, tmp);
        await fsx.rename(tmp, wants);
      } catch (err) {
        throw ioError(`unable to make link ${wants}`, err);
      }
      undo.links.push(wants);
    }
    notes.push(`installed ${root.display(plan.file)}, enabled in multi-user.target.wants`);
    if (root.isSystemRoot) {
      const r = spawnSync('systemctl', ['daemon-reload'], { stdio: 'ignore' });
      notes.push(r.status === 0 ? 'systemctl daemon-reload done' : 'warning: systemctl daemon-reload failed');
    }
    return notes;
  }
  const kind = mode === 'inittab' ? 'inittab' : 'rclocal';
  const edit = editBootText(await readOrUndefined(plan.file), plan.line!, kind);
  if (edit.status === 'added' || edit.status === 'updated') {
    await mkdirs(path.dirname(plan.file), journaled(undo.dirs, txn));
    undo.files.push(await replaceFile(plan.file, edit.text, 0o755, txn, bootFileHint(plan.file)));
    notes.push(`${edit.status === 'added' ? 'added' : 'corrected'} svscanboot line in ${root.display(plan.file)}`);
  }
  if (mode === 'inittab' && root.isSystemRoot) {
    process.kill(1, 'SIGHUP');
    notes.push('init should start svscan now');
  } else if (mode === 'inittab') notes.push('not signalling init: --root is not /');
  else notes.push('reboot (or run rc.local) to start svscan');
  return notes;
}

export async function undoBoot(undo: BootUndo): Promise<void> {
  for (const l of [...undo.links].reverse()) await fsx.unlinkIfPresent(l).catch(() => {});
  for (const f of [...undo.files].reverse()) await restoreFile(f);
  for (const d of [...undo.dirs].reverse()) await fsx.rmdir(d).catch(() => {});
}

/** Makes ROOT/service if missing; returns true if it made it. */
export async function ensureServiceDir(root: Root, txn?: BootJournal): Promise<boolean> {
  if (await lexists(root.serviceDir)) {
    const st = await stat(root.serviceDir).catch(() => undefined);
    if (!st?.isDirectory()) throw new DjbError('E_CONFLICT', `${root.display(root.serviceDir)} exists and is not a directory`);
    return false;
  }
  try {
    await txn?.note({ op: 'mkdir', path: root.serviceDir });
    await fsx.mkdir(root.serviceDir, 0o755);
  } catch (err) {
    throw ioError(`unable to create ${root.serviceDir}`, err);
  }
  return true;
}


export function hasFence(text: string): boolean {
  const lines = text.split('\n');
  const b = lines.indexOf(FENCE_BEGIN);
  return b >= 0 && lines.indexOf(FENCE_END, b) > b;
}

/** The text without djbpkg's fenced block(s); every other line is kept as it was. */
export function removeFence(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const end = lines[i] === FENCE_BEGIN ? lines.indexOf(FENCE_END, i) : -1;
    if (end > i) i = end;
    else out.push(lines[i]!);
  }
  return out.join('\n');
}

/** Where djbpkg's own hook is, by mode (hand-written lines are not djbpkg's). */
export async function djbpkgHooks(root: Root): Promise<{ mode: BootMode; file: string }[]> {
  const out: { mode: BootMode; file: string }[] = [];
  for (const [mode, file] of [['inittab', root.inittab], ['rclocal', root.rcLocal]] as const) {
    const text = await readOrUndefined(file).catch(() => undefined);
    if (text !== undefined && hasFence(text)) out.push({ mode, file });
  }
  const unit = await readOrUndefined(unitPath(root)).catch(() => undefined);
  if (unit !== undefined && unit.startsWith(UNIT_MARKER)) out.push({ mode: 'systemd', file: unitPath(root) });
  return out;
}

/**
 * Takes djbpkg's hook out of every place but `keep` (all of them for `none`),
 * so that a different --boot moves the hook instead of adding a second one.
 */
export async function removeOtherHooks(root: Root, keep: BootMode, undo: BootUndo, txn?: BootJournal): Promise<string[]> {
  const notes: string[] = [];
  for (const h of await djbpkgHooks(root)) {
    if (h.mode === keep) continue;
    if (h.mode === 'systemd') {
      const wants = wantsPath(root);
      const st = await lstat(wants).catch(() => undefined);
      if (st?.isSymbolicLink()) {
        await txn?.note({ op: 'link', path: wants, before: `../${SYSTEMD_UNIT}` });
        await fsx.unlinkIfPresent(wants);
      }
      await txn?.noteFile(h.file);
      await fsx.unlinkIfPresent(h.file);
    } else {
      const text = await readFile(h.file, 'utf8');
      undo.files.push(await replaceFile(h.file, removeFence(text), 0o644, txn, bootFileHint(h.file)));
    }
    notes.push(`moved the svscanboot hook: removed djbpkg's ${h.mode} hook from ${root.display(h.file)}`);
  }
  return notes;
}
