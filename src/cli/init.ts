import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import { applyInitSteps, planConventionalDirs, planPackageHome } from '../install/index.js';
import { info, json } from './render.js';

interface InitArgs {
  'package-home'?: string;
  'dry-run': boolean;
  json: boolean;
}

/** `djbpkg init`: /package (mode 1755, or a link to --package-home) and the conventional directories. */
export function initCommand(io: Io): CommandModule<object, InitArgs> {
  return {
    command: 'init',
    describe: 'create /package (mode 1755) and /var/svc.d, /var/multilog, /etc/tcprules',
    builder: (y) =>
      y
        .option('package-home', { type: 'string', describe: 'create DIR (mode 1755) and make /package a symlink to it' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'print every step, change nothing' }) as never,
    handler: async (args) => {
      const steps = [...(await planPackageHome(io.root, args['package-home'])), ...(await planConventionalDirs(io.root))];
      const made = args['dry-run'] ? [] : await applyInitSteps(steps);
      for (const s of steps) {
        if (s.action === 'exists') info(io.stderr, s.detail);
        else info(io.stderr, args['dry-run'] ? `would ${s.detail}` : `${s.detail}: done`);
      }
      if (args.json) {
        json(io.stdout, {
          root: io.root.dir,
          steps: steps.map((s) => ({ path: s.path, action: s.action })),
          changed: made.length > 0,
          dryRun: args['dry-run'],
        });
      }
    },
  };
}
