import { DjbError } from '../core/errors.js';
import type { BuildKind } from './build.js';
import type { BootRequest } from '../boot/boot.js';

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

/** The `--json` document of `djbpkg install` (its fields are listed in man/djbpkg.8 under install). */
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

/** What was recorded for the current installed version, if any. */
export interface Recorded {
  version: string;
  patches: string[];
  build: string | undefined;
  boot: string | undefined;
}

export interface KeptChoices {
  with: string[];
  without: string[];
  /** undefined: the recipe's default build. */
  build: string | undefined;
  boot: string;
  /** One line per choice kept or changed, for the output. */
  notes: string[];
}

/**
 * A reinstall keeps what the admin chose before: the recorded patch sets are
 * the starting point (instead of the recipe's defaults) and `--with`/`--without`
 * change them; `--build` and `--boot` replace the recorded ones only when given.
 */
export function keepChoices(
  recipe: RecipeForInstall,
  prev: Recorded | undefined,
  given: { with: string[]; without: string[]; build: string | undefined; boot: string | undefined },
): KeptChoices {
  const notes: string[] = [];
  const names = recipe.patches.map((p) => p.name);
  if (!prev) {
    return { with: given.with, without: given.without, build: given.build, boot: given.boot ?? 'auto', notes };
  }
  const base = prev.patches.filter((n) => names.includes(n));
  const gone = prev.patches.filter((n) => !names.includes(n));
  if (gone.length) notes.push(`patch sets ${gone.join(' ')} chosen for ${prev.version} do not exist for ${recipe.version}; dropped`);
  const set = [...base.filter((n) => !given.without.includes(n)), ...given.with.filter((n) => !base.includes(n))];
  const added = set.filter((n) => !prev.patches.includes(n));
  const dropped = prev.patches.filter((n) => names.includes(n) && !set.includes(n));
  if (added.length || dropped.length) {
    notes.push(`patch sets change: ${[...added.map((n) => `+${n}`), ...dropped.map((n) => `-${n}`)].join(' ')} (now: ${set.join(' ') || 'none'})`);
  } else notes.push(`keeping patch sets ${set.join(' ') || '(none)'} chosen at the last install (--with/--without change them)`);
  const build = given.build ?? (prev.build === 'unknown' ? undefined : prev.build);
  if (given.build === undefined && prev.build && prev.build !== 'unknown') notes.push(`keeping --build ${prev.build} from the last install`);
  else if (given.build && prev.build && given.build !== prev.build && prev.build !== 'unknown') notes.push(`build changes: ${prev.build} -> ${given.build}`);
  const boot = given.boot ?? prev.boot ?? 'auto';
  if (given.boot === undefined && prev.boot) notes.push(`keeping --boot ${prev.boot} from the last install`);
  else if (given.boot && prev.boot && given.boot !== prev.boot && given.boot !== 'auto') notes.push(`boot method changes: ${prev.boot} -> ${given.boot} (the hook moves)`);
  return { with: set, without: names.filter((n) => !set.includes(n)), build, boot, notes };
}
