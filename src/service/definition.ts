import { chmod, chown, lstat, mkdir, readFile, readdir, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import { shellQuote, type Root } from '../core/root.js';
import type { Account } from './accounts.js';
import { backupDefinition, backupsDir } from './backup.js';
import { servicePaths } from './names.js';

/** What `djbpkg service add` was asked for, resolved. */
export interface ServiceSpec {
  name: string;
  command: string[];
  /** Account the command runs as (setuidgid), or none: it runs as supervise does. */
  user: Account | undefined;
  /** Account multilog runs as; undefined when djbpkg is not root (setuidgid would fail). */
  logUser: Account | undefined;
  /** The account that owns the log directory. */
  logOwner: Account;
  env: Record<string, string>;
  down: boolean;
  /** Descriptor the command writes its readiness line on (`notification-fd`, s6's convention); none when undefined. */
  readyFd?: number;
}

/** One file, directory or link of a definition, relative to the definition dir. */
type Entry =
  | { kind: 'file'; rel: string; text: string; mode: number }
  | { kind: 'dir'; rel: string }
  | { kind: 'link'; rel: string; target: string };

/**
 * `run`: stderr joins stdout (so the logger gets both), then one exec through
 * the loaders this service needs. PATH decides which envdir and setuidgid run
 * (svscanboot's PATH puts /command first).
 */
export function runScript(spec: ServiceSpec): string {
  const words: string[] = [];
  if (Object.keys(spec.env).length > 0) words.push('envdir', './env');
  if (spec.user) words.push('setuidgid', shellQuote(spec.user.name));
  words.push(...spec.command.map(shellQuote));
  return `#!/bin/sh\nexec 2>&1\nexec ${words.join(' ')}\n`;
}

/**
 * `log/run`: multilog into `./main`, a relative link to ROOT/var/multilog/NAME,
 * so that the same definition works on `/`, under a sandbox root run in place,
 * and in a chroot of that root.
 */
export function logRunScript(spec: ServiceSpec): string {
  const as = spec.logUser ? `setuidgid ${shellQuote(spec.logUser.name)} ` : '';
  return `#!/bin/sh\nexec ${as}multilog t ./main\n`;
}

/** `log/main` -> `../../../multilog/NAME`, as seen from ROOT/var/svc.d/NAME/log. */
export function logMainTarget(root: Root, name: string): string {
  const p = servicePaths(root, name);
  return path.relative(path.join(p.definition, 'log'), p.logDir);
}

function checkEnv(env: Record<string, string>): void {
  for (const [k, v] of Object.entries(env)) {
    if (k === '' || k.includes('/') || k.includes('=') || k.startsWith('.') || /[\s\0]/.test(k)) {
      throw new DjbError('E_USAGE', `bad environment variable name ${JSON.stringify(k)}`, { hint: 'use --env KEY=VALUE with a KEY envdir can hold (no /, =, leading . or whitespace)' });
    }
    // envdir keeps the first line and strips trailing blanks: such values cannot be stored.
    if (v.includes('\n') || v.includes('\0') || /[ \t]$/.test(v)) {
      throw new DjbError('E_USAGE', `value of ${k} cannot be kept by envdir (a newline, NUL or trailing blank)`);
    }
  }
}

/** The definition's entries, in creation order (parents first). */
export function definitionEntries(root: Root, spec: ServiceSpec): Entry[] {
  checkEnv(spec.env);
  const entries: Entry[] = [
    { kind: 'file', rel: 'run', text: runScript(spec), mode: 0o755 },
    { kind: 'dir', rel: 'env' },
  ];
  for (const k of Object.keys(spec.env).sort()) entries.push({ kind: 'file', rel: `env/${k}`, text: spec.env[k] + '\n', mode: 0o644 });
  entries.push(
    { kind: 'dir', rel: 'log' },
    { kind: 'file', rel: 'log/run', text: logRunScript(spec), mode: 0o755 },
    { kind: 'link', rel: 'log/main', target: logMainTarget(root, spec.name) },
  );
  if (spec.down) entries.push({ kind: 'file', rel: 'down', text: '', mode: 0o644 });
  if (spec.readyFd !== undefined) entries.push({ kind: 'file', rel: 'notification-fd', text: `${spec.readyFd}\n`, mode: 0o644 });
  return entries;
}

async function writeEntry(base: string, e: Entry): Promise<void> {
  const p = path.join(base, e.rel);
  if (e.kind === 'dir') {
    await mkdir(p, { mode: 0o755 });
    await chmod(p, 0o755);
  } else if (e.kind === 'link') {
    await symlink(e.target, p);
  } else {
    await writeFile(p, e.text, { mode: e.mode });
    await chmod(p, e.mode);
  }
}

/** True when what is at `p` is exactly the entry. */
async function sameEntry(p: string, e: Entry): Promise<boolean> {
  try {
    const st = await lstat(p);
    if (e.kind === 'dir') return st.isDirectory();
    if (e.kind === 'link') return st.isSymbolicLink() && (await readlink(p)) === e.target;
    return st.isFile() && (st.mode & 0o7777) === e.mode && (await readFile(p, 'utf8')) === e.text;
  } catch {
    return false;
  }
}

/** Replaces one entry of a live definition by `{new}` then rename, so a reader sees the old or the new one. */
async function replaceEntry(base: string, e: Entry): Promise<void> {
  const p = path.join(base, e.rel);
  if (e.kind === 'dir') {
    await rm(p, { force: true });
    await writeEntry(base, e);
    return;
  }
  const tmp = `${p}{new}`;
  await rm(tmp, { recursive: true, force: true });
  await writeEntry(base, { ...e, rel: `${e.rel}{new}` });
  await rename(tmp, p);
}

export interface AddResult {
  definition: string;
  logDir: string;
  /** True when anything under the definition or the log directory changed. */
  changed: boolean;
  created: boolean;
  /** Relative paths rewritten or removed in an existing definition. */
  updated: string[];
  /** Where `--force` kept what it replaced, or null. */
  backup: string | null;
}

/** ROOT/var/multilog/NAME, owned by the log account; true when made or re-owned. */
async function ensureLogDir(dir: string, owner: Account): Promise<boolean> {
  let changed = false;
  let st = await stat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) throw new DjbError('E_CONFLICT', `${dir} exists and is not a directory`);
  if (!st) {
    await mkdir(path.dirname(dir), { recursive: true, mode: 0o755 });
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    st = await stat(dir);
    changed = true;
  }
  if (st.uid !== owner.uid || st.gid !== owner.gid) {
    await chown(dir, owner.uid, owner.gid);
    changed = true;
  }
  return changed;
}

/**
 * Writes ROOT/var/svc.d/NAME. A new definition is built under `.NAME{new}`
 * and renamed into place, so it appears complete or not at all. An existing
 * one is brought to the spec entry by entry (each swapped by rename; never
 * the directory itself, which a running supervise has as its cwd); files in
 * env/ that the spec does not name are removed, other files are left alone.
 * Starts nothing.
 */
export async function addService(root: Root, spec: ServiceSpec, opts: { force?: boolean; nowMs?: number } = {}): Promise<AddResult> {
  const p = servicePaths(root, spec.name);
  const entries = definitionEntries(root, spec);
  const result: AddResult = { definition: p.definition, logDir: p.logDir, changed: false, created: false, updated: [], backup: null };
  const existing = await lstat(p.definition).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new DjbError('E_CONFLICT', `${root.display(p.definition)} exists and is not a directory`);
  if (existing) {
    // A definition that would change is the admin's until --force says otherwise; then what it replaces is kept.
    const differs = await pendingChanges(p.definition, entries, spec);
    if (differs.length > 0 && !opts.force) {
      throw new DjbError('E_CONFLICT', `service ${spec.name} is already defined in ${root.display(p.definition)}, differently (${differs.join(', ')}); not replacing it`, {
        temporary: false,
        hint: `to replace it, give the same command with --force (the replaced run, env/ and log/run are kept in ${root.display(backupsDir(root))}); djbpkg service add leaves a definition that matches alone`,
      });
    }
    if (differs.length > 0) result.backup = await backupDefinition(root, p, opts.nowMs ?? Date.now());
  }
  try {
    result.changed = await ensureLogDir(p.logDir, spec.logOwner);
  } catch (err) {
    throw ioError(`unable to prepare the log directory ${p.logDir}`, err);
  }
  if (!existing) {
    const stage = path.join(root.svcDefinitionsDir, `.${spec.name}{new}`);
    try {
      await rm(stage, { recursive: true, force: true });
      await mkdir(root.svcDefinitionsDir, { recursive: true, mode: 0o755 });
      await mkdir(stage, { mode: 0o755 });
      await chmod(stage, 0o755);
      for (const e of entries) await writeEntry(stage, e);
      await rename(stage, p.definition);
    } catch (err) {
      await rm(stage, { recursive: true, force: true }).catch(() => {});
      throw ioError(`unable to create ${p.definition}`, err);
    }
    return { ...result, changed: true, created: true };
  }
  try {
    for (const e of entries) {
      if (await sameEntry(path.join(p.definition, e.rel), e)) continue;
      await replaceEntry(p.definition, e);
      result.updated.push(e.rel);
    }
    const wantedEnv = new Set(Object.keys(spec.env));
    for (const f of await readdir(path.join(p.definition, 'env'))) {
      if (wantedEnv.has(f)) continue;
      await rm(path.join(p.definition, 'env', f), { recursive: true, force: true });
      result.updated.push(`env/${f}`);
    }
    if (!spec.down && (await lstat(path.join(p.definition, 'down')).catch(() => undefined))) {
      await unlink(path.join(p.definition, 'down'));
      result.updated.push('down');
    }
    if (spec.readyFd === undefined && (await lstat(path.join(p.definition, 'notification-fd')).catch(() => undefined))) {
      await unlink(path.join(p.definition, 'notification-fd'));
      result.updated.push('notification-fd');
    }
  } catch (err) {
    throw ioError(`unable to update ${p.definition}${result.backup ? ` (what it had is kept in ${result.backup})` : ''}`, err);
  }
  result.changed ||= result.updated.length > 0;
  return result;
}

/** What bringing an existing definition to the spec would rewrite or remove, as relative paths. */
async function pendingChanges(def: string, entries: Entry[], spec: ServiceSpec): Promise<string[]> {
  const out: string[] = [];
  for (const e of entries) if (!(await sameEntry(path.join(def, e.rel), e))) out.push(e.rel);
  const wantedEnv = new Set(Object.keys(spec.env));
  for (const f of await readdir(path.join(def, 'env')).catch(() => [] as string[])) if (!wantedEnv.has(f)) out.push(`env/${f}`);
  if (!spec.down && (await lstat(path.join(def, 'down')).catch(() => undefined))) out.push('down');
  return out;
}
