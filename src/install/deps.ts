import { readFile } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { DjbError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import { semverOf } from '../recipe/version.js';
import { listInstalled } from '../installed/installed.js';
import type { InstalledPackage } from '../installed/installed.js';

/**
 * Requirements between packages: a recipe names what it needs (`requires`),
 * install puts the missing ones in first (each its own transaction), and the
 * installed tree records them in PACKAGE/package/requires so that remove can
 * refuse to pull a package out from under another without the recipes.
 */

export const REQUIRES_FILE = 'package/requires';

export function formatRequires(specs: readonly string[]): string {
  return specs.map((s) => `${s}\n`).join('');
}

/** The specs recorded in an installed package directory; none when the file is absent. */
export async function readRequires(packageDir: string): Promise<string[]> {
  try {
    return (await readFile(path.join(packageDir, REQUIRES_FILE), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  } catch {
    return [];
  }
}

export function specName(spec: string): string {
  const at = spec.indexOf('@');
  return at < 0 ? spec : spec.slice(0, at);
}

function specRange(spec: string): string | undefined {
  const at = spec.indexOf('@');
  return at < 0 ? undefined : spec.slice(at + 1);
}

/** True when `version` is what `spec` asks for (any version when it names no range). */
export function satisfies(spec: string, version: string): boolean {
  const range = specRange(spec);
  if (range === undefined || range === version) return true;
  const v = semverOf(version);
  const r = semver.validRange(range);
  return v !== undefined && r !== null && semver.satisfies(v, r);
}

/** What the plan needs of a recipe. */
export interface DepRecipe {
  name: string;
  version: string;
  requires: string[];
}

export interface PlannedInstall<R extends DepRecipe> {
  recipe: R;
  /** The package that needs it; undefined for the one the user named. */
  requiredBy: string | undefined;
}

/**
 * The installs `djbpkg install TARGET` runs, in order: every requirement that
 * is not installed (or whose current version does not satisfy the spec),
 * depth first so that a package comes after all it needs, then TARGET itself.
 * A requirement cycle is a recipe error.
 */
export async function planInstalls<R extends DepRecipe>(
  target: R,
  resolve: (spec: string) => Promise<R>,
  installedVersion: (name: string) => Promise<string | undefined>,
): Promise<PlannedInstall<R>[]> {
  const out: PlannedInstall<R>[] = [];
  const done = new Set<string>();
  async function visit(r: R, requiredBy: string | undefined, chain: string[]): Promise<void> {
    for (const spec of r.requires) {
      const name = specName(spec);
      if (chain.includes(name)) throw new DjbError('E_RECIPE', `requirement cycle: ${[...chain, name].join(' -> ')}`);
      if (done.has(name)) continue;
      const have = await installedVersion(name);
      if (have !== undefined && satisfies(spec, have)) {
        done.add(name);
        continue;
      }
      const dep = await resolve(spec);
      await visit(dep, r.name, [...chain, name]);
    }
    done.add(r.name);
    out.push({ recipe: r, requiredBy });
  }
  await visit(target, undefined, [target.name]);
  return out;
}

/** The current version of an installed package, or undefined. */
export async function currentVersion(root: Root, name: string): Promise<string | undefined> {
  return (await listInstalled(root)).find((p) => p.name === name)?.current ?? undefined;
}

export interface Dependent {
  name: string;
  version: string;
  spec: string;
}

/** Installed packages (their current versions) whose recorded requirements name `name`. */
export async function dependentsOf(root: Root, name: string, installed?: InstalledPackage[]): Promise<Dependent[]> {
  const out: Dependent[] = [];
  for (const p of installed ?? (await listInstalled(root))) {
    if (p.name === name) continue;
    const cur = p.versions.find((v) => v.current);
    if (!cur) continue;
    for (const spec of await readRequires(cur.dir)) if (specName(spec) === name) out.push({ name: p.name, version: cur.version, spec });
  }
  return out;
}

/** remove's guard: E_USAGE naming the dependents, unless forced. */
export function refuseRemoval(name: string, dependents: readonly Dependent[]): DjbError {
  const who = dependents.map((d) => `${d.name} ${d.version}`).join(', ');
  return new DjbError('E_USAGE', `${name} is required by ${who}; not removing it`, {
    hint: `remove ${dependents.map((d) => d.name).join(' and ')} first, or run remove with --force to remove ${name} anyway`,
  });
}
