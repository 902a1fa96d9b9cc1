import type { Root } from '../core/root.js';
import { assertInsideRoot } from '../core/fs.js';
import { Txn } from '../installed/txn.js';
import { chooseBoot } from '../boot/boot.js';
import { finalDir } from './context.js';
import type { InstallContext } from './context.js';
import { runPipeline } from './pipeline.js';
import { choosePatches } from './plan.js';
import type { InstallDeps, InstallOptions, InstallReport, RecipeForInstall } from './plan.js';
import { INSTALL_STAGES } from './stages/index.js';

/** Runs (or with dryRun, plans) the whole install of one package; the caller holds the root lock. */
export async function install(
  root: Root,
  recipe: RecipeForInstall,
  opts: InstallOptions,
  deps: InstallDeps,
  extra: { env?: Readonly<Record<string, string | undefined>>; binDir?: string; log?: (stage: string, line: string) => void } = {},
): Promise<InstallReport> {
  const ctx: InstallContext = {
    root,
    recipe,
    opts,
    deps,
    env: extra.env ?? {},
    binDir: extra.binDir,
    sets: choosePatches(recipe, opts.with, opts.without),
    made: [],
    patchesApplied: [],
    identical: false,
    linkUndos: [],
    serviceMade: false,
    bootUndo: { files: [], links: [], dirs: [] },
    bootMode: (await chooseBoot(root, opts.boot)).mode,
  };
  await assertInsideRoot(root, rootDirsWritten(root, opts));
  if (!opts.dryRun) ctx.txn = await Txn.begin(root, 'install', `${recipe.name} ${recipe.version}`);
  const result = await runPipeline(INSTALL_STAGES, ctx, { dryRun: opts.dryRun, log: extra.log ?? (() => {}), txn: ctx.txn });
  return {
    name: recipe.name,
    version: recipe.version,
    packageDir: finalDir(ctx),
    patches: ctx.sets.map((s) => s.name),
    build: opts.build,
    commands: ctx.split?.present ?? [],
    missing: ctx.split?.missing ?? [],
    boot: ctx.bootPlan?.choice.mode ?? opts.boot,
    changed: result.changed,
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(ctx.native
      ? { compiler: { name: ctx.native.compiler.family, version: ctx.native.compiler.version, cc: ctx.native.choice.cc, ld: ctx.native.choice.ld, user: ctx.native.user } }
      : {}),
  };
}

/** The directories of ROOT an install may write in; each must stay inside ROOT. */
export function rootDirsWritten(root: Root, opts?: { distfiles: string }): string[] {
  const dirs = [root.stateDir, root.commandDir, root.usrLocalBin, root.join('usr/local/share/man'), root.serviceDir, root.etcDir, root.systemdSystemDir];
  if (opts && opts.distfiles === root.defaultDistfiles) dirs.push(root.defaultDistfiles);
  return dirs;
}
