import path from 'node:path';
import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import { fetchDistfile } from '../install/fetch.js';
import { checkBuild, choosePatches, install, keepChoices } from '../install/index.js';
import type { InstallDeps } from '../install/index.js';
import { DEFAULT_LOCK_WAIT_MS, findPackage } from '../installed/index.js';
import { lockAndRecover } from '../installed/lock.js';
import type { HeldLock } from '../installed/index.js';
import type { BootRequest } from '../boot/index.js';
import { applyPatchSets } from '../install/patch.js';
import { koffiVersion } from '../install/runtime.js';
import { readBootRecord, runs, startSvscan } from '../boot/start.js';
import { probeSysdeps, writeSysdeps } from '../install/sysdeps.js';
import { readBuildRecord } from '../install/build-native.js';
import { checkMake, detectCompiler } from '../install/compiler.js';
import { currentVersion, planInstalls } from '../install/deps.js';
import type { InstallReport } from '../install/plan.js';
import { resolveRecipe } from '../recipe/index.js';
import { distfilesDir, extraRecipeDirs, fetchOptions, md5OnlyWarning } from './fetch-options.js';
import type { GlobalArgs } from './fetch-options.js';
import { info, json, warn } from './render.js';
import { underSignals } from './signals.js';
import { djbpkgCommand } from '../core/hint.js';

interface InstallArgs extends GlobalArgs {
  spec: string;
  with?: string[];
  without?: string[];
  build?: string;
  boot?: BootRequest;
  start: boolean;
  'dry-run': boolean;
  force: boolean;
  'lock-wait': number | string;
}

/** `djbpkg install NAME[@RANGE]`: fetch, verify, unpack, patch, build, lay out, hook boot — all or nothing. */
export function installCommand(io: Io): CommandModule<GlobalArgs, InstallArgs> {
  return {
    command: 'install <spec>',
    describe: 'install NAME[@RANGE] into ROOT/package with /command and /usr/local/bin links and a boot hook',
    builder: (y) =>
      y
        .positional('spec', { type: 'string', describe: 'NAME[@RANGE], e.g. daemontools or daemontools@0.76', demandOption: true })
        .option('with', { type: 'string', array: true, describe: 'also apply patch set NAME (repeatable)' })
        .option('without', { type: 'string', array: true, describe: 'do not apply patch set NAME, even if it is a default (repeatable)' })
        .option('build', { type: 'string', describe: "ts: commands run the TypeScript runtime; native: djb's C compiled with the system compiler (default: the recipe's first build, ts for daemontools); a reinstall keeps the recorded one" })
        .option('boot', { type: 'string', describe: 'how svscanboot is started at boot: auto (default), inittab, rclocal, systemd or none; a reinstall keeps the recorded one, a different one moves the hook' })
        .option('start', { type: 'boolean', default: true, describe: 'when ROOT is /, start svscanboot after installing, as djbpkg boot does (--no-start: do not); never for a sandbox root' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'print every step it would take and change nothing' })
        .option('force', { type: 'boolean', default: false, describe: 'replace files and links in /command and /usr/local/bin that belong to something else' })
        .option('lock-wait', { type: 'string', default: String(DEFAULT_LOCK_WAIT_MS / 1000), describe: 'seconds to wait for another install on the same root before failing (exit 111)' }) as never,
    handler: async (args) => {
      const extra = extraRecipeDirs(args);
      const target = await resolveRecipe(args.spec, extra);
      choosePatches(target, args.with ?? [], args.without ?? []);
      const prev = (await findPackage(io.root, target.name))?.versions.find((v) => v.current);
      const kept = keepChoices(target, prev && { version: prev.version, patches: prev.patches, build: prev.build, boot: prev.boot }, {
        with: args.with ?? [],
        without: args.without ?? [],
        build: args.build,
        boot: args.boot,
      });
      for (const n of kept.notes) info(io.stderr, `choices: ${n}`);
      const build = checkBuild(kept.build, target.builds, `${target.name} ${target.version}`);
      const steps = await planInstalls(target, (spec) => resolveRecipe(spec, extra), (name) => currentVersion(io.root, name));
      const dryRun = args['dry-run'];
      if (steps.length > 1) {
        info(io.stderr, `${target.name} requires ${target.requires.join(', ')}; ${dryRun ? 'the plan' : 'installing'}, in order, each as its own transaction:`);
        steps.forEach((s, i) => info(io.stderr, `  ${i + 1}. ${s.recipe.name} ${s.recipe.version} (${s.recipe === target ? `${build} build` : `${checkBuild(undefined, s.recipe.builds, s.recipe.name)} build, required by ${s.requiredBy ?? target.name}`})`));
      }
      for (const s of steps) if (s.recipe.sha256 === undefined) warn(io.stderr, md5OnlyWarning(s.recipe.name, s.recipe.version));
      const native = steps.some((st) => (st.recipe === target ? build : checkBuild(undefined, st.recipe.builds, st.recipe.name)) === 'native');
      if (native && !dryRun) {
        // Before any download: a missing compiler or make is known now.
        detectCompiler(io.env);
        checkMake(io.env);
      }
      let lock: HeldLock | undefined;
      if (!dryRun) lock = await lockAndRecover(io.root, Number(args['lock-wait']) * 1000, () => io.now(), (line) => info(io.stderr, line));
      const reports: { report: InstallReport; sysdeps: string | null }[] = [];
      try {
        for (const step of steps) {
          const recipe = step.recipe;
          const isTarget = recipe === target;
          if (!isTarget) info(io.stderr, `${dryRun ? 'would install' : 'installing'} ${recipe.name} ${recipe.version} first (${step.requiredBy ?? target.name} requires it)`);
          else if (steps.length > 1) info(io.stderr, `${dryRun ? 'would install' : 'installing'} ${recipe.name} ${recipe.version}`);
          const deps: InstallDeps = {
            fetchDistfile: async () => fetchDistfile(recipe, fetchOptions(args, io)),
            applyPatchSets: async (tree, sets) => applyPatchSets(tree, sets),
          };
          const report = await underSignals(`install of ${recipe.name} ${recipe.version}`, () => install(
            io.root,
            recipe,
            {
              with: isTarget ? kept.with : [],
              without: isTarget ? kept.without : [],
              build: isTarget ? build : checkBuild(undefined, recipe.builds, recipe.name),
              boot: kept.boot as BootRequest,
              force: args.force,
              dryRun,
              distfiles: distfilesDir(args, io),
              mirrors: args.mirror ?? [],
              offline: args.offline,
            },
            deps,
            { env: io.env, log: (stage, line) => info(io.stderr, `${steps.length > 1 ? `${recipe.name}: ` : ''}${stage}: ${line}`) },
          ));
          let sysdeps: string | null = null;
          if (!dryRun) {
            if (report.build === 'ts') {
              sysdeps = await writeSysdeps(report.packageDir, probeSysdeps(koffiVersion()));
              info(io.stderr, `sysdeps: wrote ${sysdeps} (${djbpkgCommand(io.root, ['sysdeps'])} prints it)`);
            } else {
              const rec = await readBuildRecord(report.packageDir);
              sysdeps = rec?.sysdeps ? path.join(report.packageDir, rec.sysdeps) : null;
              if (sysdeps) info(io.stderr, `sysdeps: the build wrote ${sysdeps} (${djbpkgCommand(io.root, ['sysdeps', recipe.name])} prints it)`);
            }
            if (!isTarget) info(io.stderr, `${report.changed ? 'installed' : 'already installed:'} ${recipe.name} ${recipe.version}`);
          }
          reports.push({ report, sysdeps });
        }
      } finally {
        lock?.release();
      }
      const { report, sysdeps } = reports.at(-1)!;
      let svscanPid: number | null = null;
      if (!dryRun) {
        if (!args.start) info(io.stderr, 'svscan not started (--no-start)');
        else if (!io.root.isSystemRoot) {
          // A sandbox root's svscan is started only by hand (djbpkg boot); say which is the case now.
          const rec = readBootRecord(io.root);
          if (rec && runs(rec.pid, 'svscan')) info(io.stderr, `svscan for this root already runs (pid ${rec.pid}, started by djbpkg boot)`);
          else info(io.stderr, `svscan does not run for this root; install starts it only for --root / (start it with: ${djbpkgCommand(io.root, ['boot'])})`);
        }
        else {
          const started = startSvscan(io.root);
          svscanPid = started.record.pid;
          info(io.stderr, started.alreadyRunning ? `svscan already running (pid ${svscanPid})` : `started svscanboot (pid ${svscanPid})`);
        }
      }
      const requirements = reports.slice(0, -1).map((r) => ({ ...r.report, sysdeps: r.sysdeps }));
      if (args.json) json(io.stdout, { ...report, sysdeps, svscanPid, ...(requirements.length ? { requirements } : {}) });
      else if (dryRun) info(io.stderr, 'dry run: nothing was changed');
      else {
        for (const r of requirements) if (r.changed) info(io.stdout, `installed ${r.name} ${r.version} in ${io.root.display(r.packageDir)} (required by ${target.name})`);
        if (report.changed) info(io.stdout, `installed ${report.name} ${report.version} in ${io.root.display(report.packageDir)}`);
        else info(io.stdout, `${report.name} ${report.version} is already installed exactly so; nothing changed`);
      }
    },
  };
}
