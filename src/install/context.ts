import path from 'node:path';
import { DjbError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import type { Txn } from '../installed/txn.js';
import type { BootMode, BootPlan, BootUndo } from '../boot/boot.js';
import type { CommandSplit } from './build.js';
import type { NativeBuildResult } from './build-native.js';
import type { ArchiveScan, Staged } from './extract.js';
import type { Made } from './init.js';
import { versionDirName } from './layout.js';
import type { LinkUndo, TreeSwap, WantedLink } from './layout.js';
import type { InstallDeps, InstallOptions, RecipeForInstall } from './plan.js';

/** Everything the install stages share; stages fill it in order. */
export interface InstallContext {
  root: Root;
  recipe: RecipeForInstall;
  opts: InstallOptions;
  deps: InstallDeps;
  env: Readonly<Record<string, string | undefined>>;
  /** Runtime program entries (dist/bin); default: this djbpkg's. */
  binDir: string | undefined;
  sets: { name: string; file: string }[];
  distfile?: string;
  scan?: ArchiveScan;
  split?: CommandSplit;
  links?: WantedLink[];
  /** Links of another installed version's commands that this version lacks: removed when the links switch. */
  staleLinks?: { path: string; target: string }[];
  made: Made[];
  staged?: Staged;
  patchesApplied: string[];
  identical: boolean;
  treeSwap?: TreeSwap;
  linkUndos: LinkUndo[];
  serviceMade: boolean;
  bootPlan?: BootPlan;
  bootUndo: BootUndo;
  /** The journal of this install (absent for --dry-run). */
  txn?: Txn;
  /** The boot method --boot resolves to on this root, recorded with the package. */
  bootMode: BootMode;
  native?: NativeBuildResult;
}


/** The tarball's one top directory: CATEGORY/NAME-VERSION, or a classic recipe's flat `top`. */
export function topDir(recipe: RecipeForInstall): string {
  return recipe.top ?? `${recipe.category}/${versionDirName(recipe)}`;
}

/** A classic recipe: a flat tarball (ucspi-tcp, djbdns) rather than a slashpackage one. */
export function isClassic(recipe: RecipeForInstall): boolean {
  return recipe.build === 'classic';
}

/** ROOT/package/CATEGORY/NAME-VERSION: where the tree is installed. */
export function finalDir(ctx: InstallContext): string {
  return path.join(ctx.root.categoryDir(ctx.recipe.category), versionDirName(ctx.recipe));
}

/** What an earlier stage put into the context; its absence is a bug in the stage order. */
export function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new DjbError('E_INTERNAL', `install stage order broken: ${what} missing`);
  return v;
}
