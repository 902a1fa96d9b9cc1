import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import { startSvscan, stopSvscan } from '../boot/start.js';
import type { GlobalArgs } from './fetch-options.js';
import { info, json } from './render.js';

interface BootArgs extends GlobalArgs {
  stop: boolean;
  'kill-after': number;
}

/** `djbpkg boot [--stop]`: start (or stop) svscan for the root now. */
export function bootCommand(io: Io): CommandModule<GlobalArgs, BootArgs> {
  return {
    command: 'boot',
    describe: 'start now what the boot line starts: svscanboot for /, svscan ROOT/service | readproctitle for a sandbox root',
    builder: (y) =>
      y.option('stop', {
        type: 'boolean',
        default: false,
        describe: 'stop what boot started: services down and told to exit (svc -dx), then svscan and readproctitle by PID',
      }).option('kill-after', {
        type: 'string',
        default: '10',
        describe: 'with --stop: seconds to wait for each stage before sending KILL',
      }) as never,
    handler: async (args) => {
      const root = io.root;
      if (args.stop) {
        const r = await stopSvscan(root, { killAfterMs: Number(args['kill-after']) * 1000, log: (line) => info(io.stderr, line) });
        if (args.json) json(io.stdout, { root: root.dir, action: 'stop', changed: r.wasRunning, wasRunning: r.wasRunning, stopped: r.stopped });
        else info(io.stderr, r.wasRunning ? `stopped svscan for ${root.dir} (pids ${r.stopped.join(' ')})` : `no svscan started by djbpkg is running for ${root.dir}`);
        return;
      }
      const r = startSvscan(root);
      const rec = r.record;
      if (args.json) {
        json(io.stdout, {
          root: root.dir,
          action: 'start',
          changed: !r.alreadyRunning,
          alreadyRunning: r.alreadyRunning,
          pid: rec.pid,
          readproctitlePid: rec.readproctitlePid ?? null,
        });
        return;
      }
      info(io.stderr, r.alreadyRunning ? `svscan for ${root.dir} is already running` : `started svscan for ${root.dir}`);
      io.stdout.write(`${rec.pid}\n`);
    },
  };
}
