import type { CommandModule } from 'yargs';
import { DjbError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { runDoctor } from '../installed/doctor.js';
import type { GlobalArgs } from './fetch-options.js';
import { json } from './render.js';

/** `djbpkg doctor`: checks the root, one line each; exit 100 when any check fails. */
export function doctorCommand(io: Io): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'doctor',
    describe: 'check the root: /package mode, links, commands, /service, boot line, svscan, PATH, node; exit 100 on a problem',
    handler: async (args) => {
      const checks = await runDoctor({ root: io.root, pathEnv: io.env.PATH });
      const problems = checks.filter((c) => !c.ok);
      if (args.json) json(io.stdout, { root: io.root.dir, ok: problems.length === 0, checks });
      else {
        for (const c of checks) {
          io.stdout.write(`${c.ok ? 'ok     ' : 'PROBLEM'} ${c.check}: ${c.detail}\n`);
          if (!c.ok && c.fix) io.stdout.write(`        fix: ${c.fix}\n`);
        }
      }
      if (problems.length > 0) {
        throw new DjbError('E_UNHEALTHY', `${problems.length} problem${problems.length === 1 ? '' : 's'} found: ${problems.map((c) => c.check).join(', ')}`);
      }
    },
  };
}
