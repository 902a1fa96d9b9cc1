import { isFile } from '../core/fs.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DjbError } from '../core/errors.js';
import { loadRecipeFile, recipeNamesIn } from './load.js';
import type { LoadedRecipe } from './load.js';
import { patchDescription } from './patch-description.js';
import { chooseVersion, orderVersions, splitSpec } from './version.js';

export { RECIPE_SCHEMA } from './schema.js';
export type { RecipeFileData, RecipeVersionData } from './schema.js';
export { loadRecipeFile } from './load.js';
export type { LoadedRecipe } from './load.js';
export { splitSpec, chooseVersion, orderVersions, semverOf } from './version.js';
export { patchDescription, describePatchText } from './patch-description.js';

export interface PatchSetSpec {
  name: string;
  /** Absolute path; the file may be missing (only install needs it). */
  file: string;
  default: boolean;
  /** From the patch file's header line; undefined when the file is missing. */
  description: string | undefined;
  /** Whether the patch file exists now. */
  present: boolean;
}

/** One version of one recipe, with every path absolute. */
export interface ResolvedRecipe {
  name: string;
  category: string;
  version: string;
  recipeFile: string;
  distfile: string;
  urls: string[];
  size: number | undefined;
  md5: string;
  sha256: string | undefined;
  /** Tarball layout and build procedure: `slashpackage` or `classic`. */
  build: 'slashpackage' | 'classic';
  /** The builds `--build` may choose; the first is the default. */
  builds: ('ts' | 'native')[];
  /** The tarball's top directory: CATEGORY/NAME-VERSION (slashpackage) or the flat `top` (classic). */
  top: string;
  /** classic: the programs copied into command/; undefined for slashpackage (package/commands says). */
  commands: string[] | undefined;
  /** Specs (NAME or NAME@RANGE) of the packages this one needs installed first. */
  requires: string[];
  /** Known-good sysdep lines by platform key. */
  sysdeps: Record<string, string[]>;
  /** In recipe order. */
  patches: PatchSetSpec[];
}

/** A recipe known to djbpkg, for listings and unknown-name messages. */
export interface RecipeSummary {
  name: string;
  recipeFile: string;
  /** Newest first; empty when the file is broken. */
  versions: string[];
  category: string | undefined;
  /** Why the file could not be loaded, when it could not. */
  error: string | undefined;
}

/** `<project>/recipes`, found from this module's own location (src/ or dist/). */
export function bundledRecipesDir(): string {
  return fileURLToPath(new URL('../../recipes', import.meta.url));
}

/** Recipe directories in search order: the extra ones first, the bundled one last. */
export function recipeDirs(extraDirs: string[]): string[] {
  return [...extraDirs.map((d) => path.resolve(d)), bundledRecipesDir()];
}

/** The first recipe named NAME in search order. Throws E_UNKNOWN_PACKAGE listing known names. */
export async function findRecipe(name: string, extraDirs: string[]): Promise<LoadedRecipe> {
  if (!/^[a-z0-9][a-z0-9._+-]*$/.test(name)) {
    throw new DjbError('E_USAGE', `invalid package name "${name}"`, { hint: 'package names look like daemontools or daemontools@0.76' });
  }
  for (const dir of recipeDirs(extraDirs)) {
    const loaded = await loadRecipeFile(path.join(dir, `${name}.json`));
    if (loaded) return loaded;
  }
  const known = new Set<string>();
  for (const dir of recipeDirs(extraDirs)) for (const n of await recipeNamesIn(dir)) known.add(n);
  throw new DjbError('E_UNKNOWN_PACKAGE', `unknown package ${name}`, {
    hint: `known packages: ${[...known].sort().join(', ') || '(none)'}`,
  });
}

/** Resolves `NAME[@RANGE]` to the newest matching version of the first recipe found. */
export async function resolveRecipe(spec: string, extraDirs: string[]): Promise<ResolvedRecipe> {
  const { name, range } = splitSpec(spec);
  const loaded = await findRecipe(name, extraDirs);
  const version = chooseVersion(name, Object.keys(loaded.data.versions), range);
  return resolveVersion(loaded, version);
}

/** Every version of recipe NAME, newest first. */
export async function resolveAllVersions(name: string, extraDirs: string[]): Promise<ResolvedRecipe[]> {
  const loaded = await findRecipe(name, extraDirs);
  const keys = orderVersions(Object.keys(loaded.data.versions)).map((v) => v.key);
  return Promise.all(keys.map((k) => resolveVersion(loaded, k)));
}

/** One version of a loaded recipe, with patch files made absolute and described. */
export async function resolveVersion(loaded: LoadedRecipe, version: string): Promise<ResolvedRecipe> {
  const v = loaded.data.versions[version];
  if (!v) throw new DjbError('E_NO_VERSION', `${loaded.data.name}: no version ${version} in ${loaded.file}`);
  const recipeDir = path.dirname(loaded.file);
  const patches: PatchSetSpec[] = [];
  for (const [name, p] of Object.entries(v.patches ?? {})) {
    const file = path.resolve(recipeDir, p.file);
    const description = await patchDescription(file);
    patches.push({ name, file, default: p.default, description, present: await isFile(file) });
  }
  return {
    name: loaded.data.name,
    category: loaded.data.category,
    version,
    recipeFile: loaded.file,
    distfile: v.distfile,
    urls: [...v.urls],
    size: v.size,
    md5: v.md5,
    sha256: v.sha256,
    build: v.build,
    builds: v.builds ? [...v.builds] : v.build === 'classic' ? ['native'] : ['ts', 'native'],
    top: v.build === 'classic' ? (v.top ?? `${loaded.data.name}-${version}`) : `${loaded.data.category}/${loaded.data.name}-${version}`,
    commands: v.commands ? [...v.commands] : undefined,
    requires: [...(v.requires ?? [])],
    sysdeps: { ...(v.sysdeps ?? {}) },
    patches,
  };
}

/** Every recipe in search order; a name found twice is listed once (the one that wins). */
export async function listRecipes(extraDirs: string[]): Promise<RecipeSummary[]> {
  const seen = new Map<string, RecipeSummary>();
  for (const dir of recipeDirs(extraDirs)) {
    for (const name of await recipeNamesIn(dir)) {
      if (seen.has(name)) continue;
      const file = path.join(dir, `${name}.json`);
      try {
        const loaded = await loadRecipeFile(file);
        if (!loaded) continue;
        seen.set(name, {
          name,
          recipeFile: file,
          versions: orderVersions(Object.keys(loaded.data.versions)).map((v) => v.key),
          category: loaded.data.category,
          error: undefined,
        });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        seen.set(name, { name, recipeFile: file, versions: [], category: undefined, error: message });
      }
    }
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

