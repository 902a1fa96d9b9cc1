import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { isDir } from '../core/fs.js';
import path from 'node:path';
import { DjbError } from '../core/errors.js';
import { djbpkgCommand } from '../core/hint.js';
import type { Root } from '../core/root.js';

/**
 * What is installed under ROOT/package, read from the tree itself: every
 * `CATEGORY/NAME-VERSION` directory, and the `CATEGORY/NAME` link that names
 * the current one. Staging directories (dot names) are never packages.
 */

export interface InstalledVersion {
  version: string;
  /** Absolute path of `ROOT/package/CATEGORY/NAME-VERSION`. */
  dir: string;
  current: boolean;
  /** Patch sets recorded in PACKAGE/package/patches at install time. */
  patches: string[];
  /** The build recorded at install time (or, for older installs, `ts` when the commands are wrappers of the TypeScript runtime, `unknown` otherwise). */
  build: string;
  /** The boot method recorded at install time, if recorded. */
  boot: string | undefined;
  /** Requirements recorded in PACKAGE/package/requires at install time. */
  requires: string[];
}

/** What the admin chose at install time, kept in the package so that a reinstall keeps it. */
export const CHOICES_FILE = 'package/choices';

export interface Choices {
  patches: string[];
  build: string;
  boot: string;
}

export function formatChoices(c: Choices): string {
  return `patches ${c.patches.join(' ')}\nbuild ${c.build}\nboot ${c.boot}\n`.replace(/patches \n/, 'patches\n');
}

export async function readChoices(dir: string): Promise<Partial<Choices>> {
  let text: string;
  try {
    text = await readFile(path.join(dir, CHOICES_FILE), 'utf8');
  } catch {
    return {};
  }
  const out: Partial<Choices> = {};
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'patches') out.patches = rest.filter(Boolean);
    else if (key === 'build' && rest[0]) out.build = rest[0];
    else if (key === 'boot' && rest[0]) out.boot = rest[0];
  }
  return out;
}

export interface InstalledPackage {
  category: string;
  name: string;
  /** Version the `NAME` link points to, or null (no link, or a link to something else). */
  current: string | null;
  /** Absolute path of the `NAME` link. */
  link: string;
  /** Sorted oldest first (by numeric fields). */
  versions: InstalledVersion[];
}

/** Compares dotted versions numerically where both fields are numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    const nx = Number(x);
    const ny = Number(y);
    if (x !== '' && y !== '' && !Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** `NAME-VERSION` split at the last dash followed by a digit, or undefined. */
export function splitVersionDir(base: string): { name: string; version: string } | undefined {
  const m = /^(.+)-(\d[^/]*)$/.exec(base);
  if (!m || base.startsWith('.')) return undefined;
  return { name: m[1]!, version: m[2]! };
}

async function readLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  } catch {
    return [];
  }
}

const TS_WRAPPER = /^# djbpkg: .*\(TypeScript runtime\)$/m;

/** The build of an installed tree, recognised from its command files. */
async function detectBuild(dir: string): Promise<string> {
  const record = (await readLines(path.join(dir, 'package', 'build'))).find((l) => l.startsWith('build: '));
  if (record) return record.slice('build: '.length);
  let names: string[];
  try {
    names = (await readdir(path.join(dir, 'command'))).sort();
  } catch {
    return 'unknown';
  }
  for (const n of names) {
    try {
      const head = (await readFile(path.join(dir, 'command', n))).subarray(0, 512).toString('utf8');
      if (TS_WRAPPER.test(head)) return 'ts';
    } catch {
      /* not a readable file */
    }
  }
  return 'unknown';
}

async function linkTarget(p: string): Promise<string | undefined> {
  try {
    if (!(await lstat(p)).isSymbolicLink()) return undefined;
    return await readlink(p);
  } catch {
    return undefined;
  }
}

async function categoryPackages(root: Root, category: string): Promise<InstalledPackage[]> {
  const catDir = root.categoryDir(category);
  let names: string[];
  try {
    names = await readdir(catDir);
  } catch {
    return [];
  }
  const byName = new Map<string, string[]>();
  for (const base of names) {
    const nv = splitVersionDir(base);
    if (!nv || !(await isDir(path.join(catDir, base)))) continue;
    byName.set(nv.name, [...(byName.get(nv.name) ?? []), nv.version]);
  }
  for (const base of names) {
    if (base.startsWith('.') || byName.has(base)) continue;
    if ((await linkTarget(path.join(catDir, base))) !== undefined) byName.set(base, []);
  }
  const out: InstalledPackage[] = [];
  for (const [name, versions] of [...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const link = path.join(catDir, name);
    const target = await linkTarget(link);
    let current: string | null = null;
    if (target !== undefined) {
      const resolved = path.resolve(catDir, target);
      const nv = splitVersionDir(path.basename(resolved));
      if (path.dirname(resolved) === catDir && nv?.name === name && versions.includes(nv.version)) current = nv.version;
    }
    const vs: InstalledVersion[] = [];
    for (const version of versions.sort(compareVersions)) {
      const dir = path.join(catDir, `${name}-${version}`);
      const chosen = await readChoices(dir);
      vs.push({
        version,
        dir,
        current: version === current,
        patches: await readLines(path.join(dir, 'package', 'patches')),
        build: chosen.build ?? (await detectBuild(dir)),
        boot: chosen.boot,
        requires: await readLines(path.join(dir, 'package', 'requires')),
      });
    }
    out.push({ category, name, current, link, versions: vs });
  }
  return out;
}

/** Every package under ROOT/package, by category then name. */
export async function listInstalled(root: Root): Promise<InstalledPackage[]> {
  let categories: string[];
  try {
    categories = (await readdir(root.packageDir)).sort();
  } catch {
    return [];
  }
  const out: InstalledPackage[] = [];
  for (const cat of categories) {
    if (cat.startsWith('.') || !(await isDir(path.join(root.packageDir, cat)))) continue;
    out.push(...(await categoryPackages(root, cat)));
  }
  return out;
}

/** The installed package `name` (first category in name order), or undefined. */
export async function findPackage(root: Root, name: string): Promise<InstalledPackage | undefined> {
  return (await listInstalled(root)).find((p) => p.name === name);
}

/** Like findPackage, but an absent package is E_NOT_INSTALLED (exit 100). */
export async function requirePackage(root: Root, name: string): Promise<InstalledPackage> {
  const p = await findPackage(root, name);
  if (!p) {
    throw new DjbError('E_NOT_INSTALLED', `${name} is not installed under ${root.display(root.packageDir)}`, {
      hint: `${djbpkgCommand(root, ['list'])} shows what is installed`,
    });
  }
  return p;
}
