import { DjbError } from '../core/errors.js';
import type { BuildKind } from './build.js';
import type { BootRequest } from './boot.js';

/** The recipe facts the install needs (the recipe module's ResolvedRecipe has these and more). */
export interface RecipeForInstall {
  name: string;
  category: string;
  version: string;
  distfile: string;
  urls: string[];
  md5: string;
  sha256?: string | undefined;
  size?: number | undefined;
  patches: { name: string; file: string; default: boolean; description?: string | undefined }[];
  /** Tarball layout; absent means slashpackage. */
  build?: 'slashpackage' | 'classic' | undefined;
  /** The tarball's top directory; absent means CATEGORY/NAME-VERSION. */
  top?: string | undefined;
  /** classic: the programs that go into command/. */
  commands?: string[] | undefined;
  /** Specs of required packages, recorded in PACKAGE/package/requires. */
  requires?: string[] | undefined;
  /** Known-good sysdep lines of a native build by platform key. */
  sysdeps?: Record<string, string[]> | undefined;
}

export interface FetchedDistfile {
  path: string;
  source: string;
}

export interface PatchSetResult {
  name: string;
  status: 'applied' | 'already-applied';
}

/**
 * The stages of other modules the install composes, passed in so that the
 * pipeline stays a table of stages over capabilities (bin/cli wire the real ones).
 */
export interface InstallDeps {
  fetchDistfile(
    recipe: RecipeForInstall,
    opts: { distfiles: string; mirrors: string[]; offline: boolean; env: Readonly<Record<string, string | undefined>>; log?: (line: string) => void },
  ): Promise<FetchedDistfile>;
  applyPatchSets(treeDir: string, sets: { name: string; file: string }[]): Promise<PatchSetResult[]>;
}

export interface InstallOptions {
  with: string[];
  without: string[];
  build: BuildKind;
  boot: BootRequest;
  force: boolean;
  dryRun: boolean;
  distfiles: string;
  mirrors: string[];
  offline: boolean;
}

/** The patch sets to apply: the recipe's defaults, plus `--with`, minus `--without`, in recipe order. */
export function choosePatches(recipe: RecipeForInstall, withNames: readonly string[], withoutNames: readonly string[]): { name: string; file: string }[] {
  const known = new Set(recipe.patches.map((p) => p.name));
  for (const n of [...withNames, ...withoutNames]) {
    if (!known.has(n)) {
      throw new DjbError('E_USAGE', `${recipe.name} ${recipe.version} has no patch set ${n}`, {
        hint: known.size ? `known patch sets: ${[...known].join(', ')}` : 'this version has no patch sets',
      });
    }
  }
  const both = withNames.filter((n) => withoutNames.includes(n));
  if (both.length) throw new DjbError('E_USAGE', `patch set ${both[0]} named in both --with and --without`);
  return recipe.patches
    .filter((p) => (p.default || withNames.includes(p.name)) && !withoutNames.includes(p.name))
    .map((p) => ({ name: p.name, file: p.file }));
}

/** The `--json` document of `djbpkg install` (CONTRACT.md, plus `missing`). */
export interface InstallReport {
  name: string;
  version: string;
  packageDir: string;
  patches: string[];
  build: BuildKind;
  commands: string[];
  missing: string[];
  boot: string;
  changed: boolean;
  dryRun?: boolean;
  /** native builds: the compiler and conf-cc line used. */
  compiler?: { name: string; version: string; cc: string; ld: string; user: string };
}
