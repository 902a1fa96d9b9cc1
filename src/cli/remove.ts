import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import { DEFAULT_LOCK_WAIT_MS, lockAndRecover } from '../installed/lock.js';
import { applyRemove, describeAction, planRemove, splitRemoveSpec } from '../installed/remove.js';
import type { GlobalArgs } from './fetch-options.js';
import { dependentsOf, refuseRemoval } from '../install/deps.js';
import { info, json, warn } from './render.js';
import { underSignals } from './signals.js';

interface RemoveArgs extends GlobalArgs {
  spec: string;
  purge: boolean;
  'dry-run': boolean;
  'lock-wait': number;
  force: boolean;
}

/** `djbpkg remove NAME[@VERSION]`: links into the package, the version link, the version dirs; services are left alone. */
export function removeCommand(io: Io): CommandModule<GlobalArgs, RemoveArgs> {
  return {
    command: 'remove <spec>',
    describe: 'remove NAME (every version, its /command and /usr/local/bin links) or NAME@VERSION (that version only); services keep running',
    builder: (y) =>
      y
        .positional('spec', { type: 'string', describe: 'NAME or NAME@VERSION', demandOption: true })
        .option('purge', { type: 'boolean', default: false, describe: "also remove djbpkg's fenced boot block or systemd unit, and ROOT/service if empty" })
        .option('dry-run', { type: 'boolean', default: false, describe: 'print what it would remove and change nothing' })
        .option('force', { type: 'boolean', default: false, describe: 'remove it even though an installed package requires it' })
        .option('lock-wait', { type: 'string', default: String(DEFAULT_LOCK_WAIT_MS / 1000), describe: 'seconds to wait for an install on the same root before failing (exit 111)' }) as never,
    handler: async (args) => {
      const { name, version } = splitRemoveSpec(args.spec);
      const dryRun = args['dry-run'];
      const lock = dryRun ? undefined : await lockAndRecover(io.root, Number(args['lock-wait']) * 1000, () => io.now(), (line) => info(io.stderr, line));
      let plan;
      try {
        plan = await planRemove(io.root, { name, version, purge: args.purge });
        const dependents = plan.whole ? await dependentsOf(io.root, plan.name) : [];
        if (dependents.length && !args.force) throw refuseRemoval(plan.name, dependents);
        for (const d of dependents) warn(io.stderr, `--force: removing ${plan.name} although ${d.name} ${d.version} requires it (${d.spec})`);
        const p = plan;
        if (!dryRun) await underSignals(`remove of ${p.name}`, () => applyRemove(io.root, p));
      } finally {
        lock?.release();
      }
      const lines = plan.actions.map((a) => describeAction(io.root, a));
      if (args.json) {
        json(io.stdout, {
          name: plan.name,
          category: plan.category,
          versions: plan.versions,
          whole: plan.whole,
          dryRun,
          changed: !dryRun && plan.actions.length > 0,
          removed: plan.actions.map((a) => ({ kind: a.kind, path: a.path })),
        });
        return;
      }
      for (const l of lines) info(io.stderr, dryRun ? `would ${l}` : `${l}: done`);
      if (dryRun) info(io.stderr, 'dry run: nothing was changed');
      else io.stdout.write(`removed ${plan.name} ${plan.versions.join(', ')}${plan.whole ? '' : ' (other versions remain)'}\n`);
      const hookGone = plan.actions.some((a) => a.kind === 'unfence' || a.kind === 'unit');
      if (!dryRun && plan.whole && !args.purge) {
        info(io.stderr, hookGone
          ? `removed the svscanboot boot hook with the command it starts; services in ${io.root.display(io.root.serviceDir)} were left alone`
          : `services in ${io.root.display(io.root.serviceDir)} and the boot line were left alone (--purge removes the djbpkg boot hook)`);
      }
    },
  };
}
