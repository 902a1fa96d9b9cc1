import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import type { BootRequest } from '../boot/index.js';
import { DEFAULT_LOCK_WAIT_MS } from '../installed/index.js';
import { runInstall } from '../install/run.js';
import { extraRecipeDirs, fetchOptions } from './fetch-options.js';
import type { GlobalArgs } from './fetch-options.js';
import { info, json, warn } from './render.js';
import { underSignals } from './signals.js';

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
      const { target, steps, svscanPid } = await runInstall(
        io.root,
        io.env,
        {
          spec: args.spec,
          recipeDirs: extraRecipeDirs(args),
          with: args.with ?? [],
          without: args.without ?? [],
          build: args.build,
          boot: args.boot,
          start: args.start,
          dryRun: args['dry-run'],
          force: args.force,
          lockWaitMs: Number(args['lock-wait']) * 1000,
          fetch: fetchOptions(args, io),
        },
        { info: (line) => info(io.stderr, line), warn: (line) => warn(io.stderr, line), now: () => io.now(), guard: underSignals },
      );
      const { report, sysdeps } = steps.at(-1)!;
      const requirements = steps.slice(0, -1).map((r) => ({ ...r.report, sysdeps: r.sysdeps }));
      if (args.json) json(io.stdout, { ...report, sysdeps, svscanPid, ...(requirements.length ? { requirements } : {}) });
      else if (args['dry-run']) info(io.stderr, 'dry run: nothing was changed');
      else {
        for (const r of requirements) if (r.changed) info(io.stdout, `installed ${r.name} ${r.version} in ${io.root.display(r.packageDir)} (required by ${target.name})`);
        if (report.changed) info(io.stdout, `installed ${report.name} ${report.version} in ${io.root.display(report.packageDir)}`);
        else info(io.stdout, `${report.name} ${report.version} is already installed exactly so; nothing changed`);
      }
    },
  };
}
