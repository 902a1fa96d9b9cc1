import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import { fetchDistfile } from '../install/fetch.js';
import { DEFAULT_LOCK_WAIT_MS, checkBuild, choosePatches, findPackage, install, keepChoices } from '../install/index.js';
import { lockAndRecover } from '../install/lock.js';
import type { BootRequest, HeldLock, InstallDeps } from '../install/index.js';
import { applyPatchSets } from '../install/patch.js';
import { koffiVersion } from '../install/runtime.js';
import { startSvscan } from '../install/start.js';
import { probeSysdeps, writeSysdeps } from '../install/sysdeps.js';
import { resolveRecipe } from '../recipe/index.js';
import { distfilesDir, extraRecipeDirs, fetchOptions, md5OnlyWarning } from './fetch-options.js';
import type { GlobalArgs } from './fetch-options.js';
import { info, json, warn } from './render.js';
import { underSignals } from './signals.js';
import { shellQuote } from '../core/root.js';

interface InstallArgs extends GlobalArgs {
  spec: string;
  with?: string[];
  without?: string[];
  build?: string;
  boot?: BootRequest;
  start: boolean;
  'dry-run': boolean;
  force: boolean;
  'lock-wait': number;
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
        .option('build', { type: 'string', describe: 'ts (default): commands run the TypeScript runtime; native: not supported yet; a reinstall keeps the recorded one' })
        .option('boot', { type: 'string', describe: 'how svscanboot is started at boot: auto (default), inittab, rclocal, systemd or none; a reinstall keeps the recorded one, a different one moves the hook' })
        .option('start', { type: 'boolean', default: true, describe: 'when ROOT is /, start svscanboot after installing, as djbpkg boot does (--no-start: do not); never for a sandbox root' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'print every step it would take and change nothing' })
        .option('force', { type: 'boolean', default: false, describe: 'replace files and links in /command and /usr/local/bin that belong to something else' })
        .option('lock-wait', { type: 'string', default: String(DEFAULT_LOCK_WAIT_MS / 1000), describe: 'seconds to wait for another install on the same root before failing (exit 111)' }) as never,
    handler: async (args) => {
      const recipe = await resolveRecipe(args.spec, extraRecipeDirs(args));
      if (recipe.sha256 === undefined) warn(io.stderr, md5OnlyWarning(recipe.name, recipe.version));
      choosePatches(recipe, args.with ?? [], args.without ?? []);
      const prev = (await findPackage(io.root, recipe.name))?.versions.find((v) => v.current);
      const kept = keepChoices(recipe, prev && { version: prev.version, patches: prev.patches, build: prev.build, boot: prev.boot }, {
        with: args.with ?? [],
        without: args.without ?? [],
        build: args.build,
        boot: args.boot,
      });
      for (const n of kept.notes) info(io.stderr, `choices: ${n}`);
      const build = checkBuild(kept.build);
      const deps: InstallDeps = {
        fetchDistfile: async () => fetchDistfile(recipe, fetchOptions(args, io)),
        applyPatchSets: async (tree, sets) => applyPatchSets(tree, sets),
      };
      const dryRun = args['dry-run'];
      let lock: HeldLock | undefined;
      if (!dryRun) lock = await lockAndRecover(io.root, Number(args['lock-wait']) * 1000, () => io.now(), (line) => info(io.stderr, line));
      let report;
      try {
        report = await underSignals(`install of ${recipe.name} ${recipe.version}`, () => install(
          io.root,
          recipe,
          {
            with: kept.with,
            without: kept.without,
            build,
            boot: kept.boot as BootRequest,
            force: args.force,
            dryRun,
            distfiles: distfilesDir(args, io),
            mirrors: args.mirror ?? [],
            offline: args.offline,
          },
          deps,
          { env: io.env, log: (stage, line) => info(io.stderr, `${stage}: ${line}`) },
        ));
      } finally {
        lock?.release();
      }
      let sysdeps: string | null = null;
      let svscanPid: number | null = null;
      if (!dryRun) {
        sysdeps = await writeSysdeps(report.packageDir, probeSysdeps(koffiVersion()));
        info(io.stderr, `sysdeps: wrote ${sysdeps} (djbpkg sysdeps prints it)`);
        if (!args.start) info(io.stderr, 'svscan not started (--no-start)');
        else if (!io.root.isSystemRoot) info(io.stderr, `svscan is not started for a sandbox root; start it with djbpkg boot --root ${shellQuote(io.root.dir)}`);
        else {
          const started = startSvscan(io.root);
          svscanPid = started.record.pid;
          info(io.stderr, started.alreadyRunning ? `svscan already running (pid ${svscanPid})` : `started svscanboot (pid ${svscanPid})`);
        }
      }
      if (args.json) json(io.stdout, { ...report, sysdeps, svscanPid });
      else if (dryRun) info(io.stderr, 'dry run: nothing was changed');
      else if (report.changed) info(io.stdout, `installed ${report.name} ${report.version} in ${io.root.display(report.packageDir)}`);
      else info(io.stdout, `${report.name} ${report.version} is already installed exactly so; nothing changed`);
    },
  };
}
