import path from 'node:path';
import { djbpkgCommand } from '../core/hint.js';
import type { Root } from '../core/root.js';
import type { BootRequest } from '../boot/boot.js';
import { readBootRecord, runs, startSvscan } from '../boot/start.js';
import { findPackage } from '../installed/installed.js';
import { lockAndRecover } from '../installed/lock.js';
import type { HeldLock } from '../installed/lock.js';
import { resolveRecipe } from '../recipe/index.js';
import type { ResolvedRecipe } from '../recipe/index.js';
import { checkBuild } from './build.js';
import { readBuildRecord } from './build-native.js';
import { checkMake, detectCompiler } from './compiler.js';
import { currentVersion, planInstalls } from './deps.js';
import { fetchDistfile } from './fetch.js';
import type { FetchOptions } from './fetch.js';
import { install } from './install.js';
import { applyPatchSets } from './patch.js';
import { choosePatches, keepChoices } from './plan.js';
import type { InstallDeps, InstallReport } from './plan.js';
import { koffiVersion } from './runtime.js';
import { probeSysdeps, writeSysdeps } from './sysdeps.js';
import { md5OnlyWarning } from './verify.js';

/** What `djbpkg install NAME[@RANGE]` was asked to do. */
export interface InstallRequest {
  spec: string;
  /** `--recipes` directories, searched before the bundled ones. */
  recipeDirs: string[];
  with: string[];
  without: string[];
  build: string | undefined;
  boot: BootRequest | undefined;
  /** Start svscanboot afterwards when ROOT is / (--no-start: false). */
  start: boolean;
  dryRun: boolean;
  force: boolean;
  lockWaitMs: number;
  /** Fetch options for every download (cache, mirrors, --offline, progress, log). */
  fetch: FetchOptions;
}

/** Where the install's lines go, and how a transaction is guarded against signals. */
export interface InstallHooks {
  info(line: string): void;
  warn(line: string): void;
  now(): number;
  /** Runs one package's transaction (the CLI traps SIGINT/SIGTERM/SIGHUP around it). */
  guard<T>(what: string, run: () => Promise<T>): Promise<T>;
}

/** One installed (or planned) package and the sysdeps file that goes with it. */
export interface InstalledStep {
  report: InstallReport;
  sysdeps: string | null;
}

export interface InstallOutcome {
  target: ResolvedRecipe;
  /** The requirements installed first, in order, then the target last. */
  steps: InstalledStep[];
  /** svscanboot's pid when this install started it (or found it running) on ROOT /. */
  svscanPid: number | null;
}

/**
 * The whole of `djbpkg install`: the choices kept from the last install, the
 * required packages first (each its own transaction under the root lock),
 * the sysdeps file of each, then svscanboot started when ROOT is /.
 */
export async function runInstall(root: Root, env: Readonly<Record<string, string | undefined>>, req: InstallRequest, hooks: InstallHooks): Promise<InstallOutcome> {
  const resolve = (spec: string): Promise<ResolvedRecipe> => resolveRecipe(spec, req.recipeDirs);
  const target = await resolve(req.spec);
  choosePatches(target, req.with, req.without);
  const prev = (await findPackage(root, target.name))?.versions.find((v) => v.current);
  const kept = keepChoices(target, prev && { version: prev.version, patches: prev.patches, build: prev.build, boot: prev.boot }, {
    with: req.with,
    without: req.without,
    build: req.build,
    boot: req.boot,
  });
  for (const n of kept.notes) hooks.info(`choices: ${n}`);
  const build = checkBuild(kept.build, target.builds, `${target.name} ${target.version}`);
  const plan = await planInstalls(target, resolve, (name) => currentVersion(root, name));
  const dryRun = req.dryRun;
  if (plan.length > 1) {
    hooks.info(`${target.name} requires ${target.requires.join(', ')}; ${dryRun ? 'the plan' : 'installing'}, in order, each as its own transaction:`);
    plan.forEach((s, i) => hooks.info(`  ${i + 1}. ${s.recipe.name} ${s.recipe.version} (${s.recipe === target ? `${build} build` : `${checkBuild(undefined, s.recipe.builds, s.recipe.name)} build, required by ${s.requiredBy ?? target.name}`})`));
  }
  for (const s of plan) if (s.recipe.sha256 === undefined) hooks.warn(md5OnlyWarning(s.recipe.name, s.recipe.version));
  const native = plan.some((st) => (st.recipe === target ? build : checkBuild(undefined, st.recipe.builds, st.recipe.name)) === 'native');
  if (native && !dryRun) {
    // Before any download: a missing compiler or make is known now.
    detectCompiler(env);
    checkMake(env);
  }
  let lock: HeldLock | undefined;
  if (!dryRun) lock = await lockAndRecover(root, req.lockWaitMs, () => hooks.now(), (line) => hooks.info(line));
  const steps: InstalledStep[] = [];
  try {
    for (const step of plan) {
      const recipe = step.recipe;
      const isTarget = recipe === target;
      if (!isTarget) hooks.info(`${dryRun ? 'would install' : 'installing'} ${recipe.name} ${recipe.version} first (${step.requiredBy ?? target.name} requires it)`);
      else if (plan.length > 1) hooks.info(`${dryRun ? 'would install' : 'installing'} ${recipe.name} ${recipe.version}`);
      const deps: InstallDeps = {
        fetchDistfile: async () => fetchDistfile(recipe, req.fetch),
        applyPatchSets: async (tree, sets) => applyPatchSets(tree, sets),
      };
      const report = await hooks.guard(`install of ${recipe.name} ${recipe.version}`, () => install(
        root,
        recipe,
        {
          with: isTarget ? kept.with : [],
          without: isTarget ? kept.without : [],
          build: isTarget ? build : checkBuild(undefined, recipe.builds, recipe.name),
          boot: kept.boot as BootRequest,
          force: req.force,
          dryRun,
          distfiles: req.fetch.distfiles,
          mirrors: req.fetch.mirrors,
          offline: req.fetch.offline,
        },
        deps,
        { env, log: (stage, line) => hooks.info(`${plan.length > 1 ? `${recipe.name}: ` : ''}${stage}: ${line}`) },
      ));
      const sysdeps = dryRun ? null : await recordSysdeps(root, recipe.name, report, hooks);
      if (!dryRun && !isTarget) hooks.info(`${report.changed ? 'installed' : 'already installed:'} ${recipe.name} ${recipe.version}`);
      steps.push({ report, sysdeps });
    }
  } finally {
    lock?.release();
  }
  const svscanPid = dryRun ? null : startAfterInstall(root, req.start, hooks);
  return { target, steps, svscanPid };
}

/** A ts build: probes and writes the sysdeps file; a native one: names the file its build wrote. */
async function recordSysdeps(root: Root, name: string, report: InstallReport, hooks: InstallHooks): Promise<string | null> {
  if (report.build === 'ts') {
    const file = await writeSysdeps(report.packageDir, probeSysdeps(koffiVersion()));
    hooks.info(`sysdeps: wrote ${file} (${djbpkgCommand(root, ['sysdeps'])} prints it)`);
    return file;
  }
  const rec = await readBuildRecord(report.packageDir);
  const file = rec?.sysdeps ? path.join(report.packageDir, rec.sysdeps) : null;
  if (file) hooks.info(`sysdeps: the build wrote ${file} (${djbpkgCommand(root, ['sysdeps', name])} prints it)`);
  return file;
}

/** Starts svscanboot on ROOT / (unless --no-start); a sandbox root's svscan is started only by hand (djbpkg boot). */
function startAfterInstall(root: Root, start: boolean, hooks: InstallHooks): number | null {
  if (!start) {
    hooks.info('svscan not started (--no-start)');
    return null;
  }
  if (!root.isSystemRoot) {
    // Say which is the case now.
    const rec = readBootRecord(root);
    if (rec && runs(rec.pid, 'svscan')) hooks.info(`svscan for this root already runs (pid ${rec.pid}, started by djbpkg boot)`);
    else hooks.info(`svscan does not run for this root; install starts it only for --root / (start it with: ${djbpkgCommand(root, ['boot'])})`);
    return null;
  }
  const started = startSvscan(root);
  hooks.info(started.alreadyRunning ? `svscan already running (pid ${started.record.pid})` : `started svscanboot (pid ${started.record.pid})`);
  return started.record.pid;
}
