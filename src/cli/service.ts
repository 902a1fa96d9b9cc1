import type { Argv, CommandModule } from 'yargs';
import { DjbError } from '../core/errors.js';
import { djbpkgCommand } from '../core/hint.js';
import type { Io } from '../core/io.js';
import {
  addService,
  checkServiceName,
  disableService,
  enableService,
  followLog,
  logDirOf,
  logPosition,
  removeService,
  serviceAccounts,
  tailLog,
  transition,
} from '../service/index.js';
import type { ServiceChange, ServiceSpec, Transition } from '../service/index.js';
import { changeJson, stateJson, stateText } from './service-render.js';
import type { GlobalArgs } from './fetch-options.js';
import { ownOptionsFirst } from './help.js';
import { info, json } from './render.js';
import { MAX_NOTIFICATION_FD } from '../supervision/readiness.js';
import { reportLogger, runStatus } from './service-health.js';

interface ServiceArgs extends GlobalArgs {
  name: string;
  names?: string[];
  command?: string[];
  user?: string;
  'log-user'?: string;
  env?: string[];
  down: boolean;
  'ready-fd'?: number;
  wait: number;
  'purge-logs': boolean;
  lines: string | string[];
  follow: boolean;
  force: boolean;
  '--'?: string[];
}

/** Every `djbpkg service` verb (checked before parsing: an unknown one is named with the nearest). */
export const SERVICE_VERBS = ['add', 'enable', 'disable', 'remove', 'start', 'stop', 'restart', 'status', 'logs'];

/** Default seconds `start`, `stop`, `restart` wait for the state (sv's default is 7). */
export const DEFAULT_TRANSITION_WAIT = 7;
/** Default seconds `disable` and `remove` wait for supervise to exit. */
export const DEFAULT_DISABLE_WAIT = 30;

function toList(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map(String);
}

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new DjbError('E_USAGE', `bad --env ${JSON.stringify(p)}`, { hint: 'use --env KEY=VALUE' });
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}

/** `-n`: the word as given (yargs would turn `ten` into NaN), a whole number of lines. */
function wholeNumber(v: string | string[]): number {
  const word = String(Array.isArray(v) ? v.at(-1) : v);
  if (!/^[0-9]+$/.test(word)) throw new DjbError('E_USAGE', `bad -n ${word}: want a whole number of lines (0 or more)`, { hint: 'e.g. -n 50' });
  return Number(word);
}

/** `--wait`: a finite number of seconds, not negative (NaN would wait forever). */
function waitSeconds(args: ServiceArgs): number {
  if (!Number.isFinite(args.wait) || args.wait < 0) throw new DjbError('E_USAGE', `bad --wait ${String(args.wait)}: want a number of seconds`, { hint: 'e.g. --wait 30, or --wait 0 not to wait' });
  return args.wait;
}

/** `--ready-fd N`: a whole number from 3 (0-2 are stdin, stdout, stderr) to MAX_NOTIFICATION_FD. */
function readyFdOption(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 3 || value > MAX_NOTIFICATION_FD) {
    throw new DjbError('E_USAGE', `bad --ready-fd ${String(value)}: want a descriptor number from 3 to ${MAX_NOTIFICATION_FD}`, { hint: 'e.g. --ready-fd 3, and the command writes a newline on fd 3 when it is ready' });
  }
  return value;
}

function waitOption<T>(y: Argv<T>, def: number, what: string) {
  return y.option('wait', { type: 'number', default: def, requiresArg: true, describe: `seconds to wait ${what} (0: do not wait)` });
}

/** `djbpkg service VERB`: define, link, control, watch and read the logs of services. */
export function serviceCommand(io: Io): CommandModule<GlobalArgs, ServiceArgs> {
  const nowMs = () => io.now();
  const report = (args: ServiceArgs, c: ServiceChange, text: string, extra: Record<string, unknown> = {}): void => {
    if (args.json) json(io.stdout, changeJson(c, nowMs(), extra));
    else info(io.stderr, text);
  };
  const transitionCommand = (verb: Transition, what: string, letters: string): CommandModule<GlobalArgs, ServiceArgs> => ({
    command: `${verb} <name>`,
    describe: `${what} (svc ${letters}) and wait for it`,
    builder: (y) => waitOption(y, DEFAULT_TRANSITION_WAIT, 'for the state, like sv -w') as never,
    handler: async (args) => {
      const c = await transition(io.root, args.name, verb, waitSeconds(args));
      const past = { start: 'started', stop: 'stopped', restart: 'restarted' }[verb];
      report(args, c, c.changed ? `${past} ${c.name}: ${stateText(c.state, nowMs())}` : `${c.name} is already ${verb === 'stop' ? 'down' : 'up'}: ${stateText(c.state, nowMs())}`);
    },
  });
  const subcommands: CommandModule<GlobalArgs, ServiceArgs>[] = [
    {
      command: 'add <name> [command..]',
      describe: 'write ROOT/var/svc.d/NAME (run, env/, log/run into ROOT/var/multilog/NAME); starts nothing',
      builder: (yy) =>
        yy
          .parserConfiguration({ 'populate--': true })
          .positional('name', { type: 'string', describe: 'service name', demandOption: true })
          .positional('command', { type: 'string', array: true, describe: 'the command and its arguments, after --' })
          .option('user', { type: 'string', requiresArg: true, describe: 'run the command as this account (setuidgid)' })
          .option('log-user', { type: 'string', requiresArg: true, describe: 'run multilog as this account, owner of the log directory', defaultDescription: 'multilog or log if such an account exists, else nobody' })
          .option('env', { type: 'string', requiresArg: true, coerce: toList, describe: 'KEY=VALUE into env/ (read by envdir; repeatable)' })
          .option('down', { type: 'boolean', default: false, describe: 'write a down file: supervise will not start it until told to' })
          .option('force', { type: 'boolean', default: false, describe: 'replace an existing, different definition (what it had is kept in ROOT/var/lib/djbpkg/service-backups)' })
          .option('ready-fd', { type: 'number', requiresArg: true, describe: 'the command writes a newline on this descriptor (3 or more) when ready: writes notification-fd, as s6' }) as never,
      handler: async (args: ServiceArgs) => {
        const command = [...(args.command ?? []), ...(args['--'] ?? [])].map(String);
        checkServiceName(args.name);
        if (command.length === 0) throw new DjbError('E_USAGE', `no command given for service ${args.name}`, { hint: djbpkgCommand(io.root, ['service', 'add', args.name], { tail: '-- COMMAND [ARGS...]' }) });
        const { user, logUser, logOwner } = serviceAccounts(io.root, { user: args.user, logUser: args['log-user'] });
        const spec: ServiceSpec = { name: args.name, command, user, logUser, logOwner, env: parseEnv(args.env ?? []), down: args.down, readyFd: readyFdOption(args['ready-fd']) };
        const r = await addService(io.root, spec, { force: args.force, nowMs: io.now() });
        const who = logUser ? `as ${logUser.name}` : 'as the invoking user';
        if (args.json) {
          json(io.stdout, {
            name: spec.name,
            changed: r.changed,
            created: r.created,
            updated: r.updated,
            definition: io.root.display(r.definition),
            logDir: io.root.display(r.logDir),
            user: user?.name ?? null,
            logUser: logUser?.name ?? null,
            backup: r.backup === null ? null : io.root.display(r.backup),
          });
          return;
        }
        if (r.created) info(io.stderr, `defined ${spec.name} in ${io.root.display(r.definition)}; logs go to ${io.root.display(r.logDir)}, written ${who}`);
        else if (r.changed) {
          info(io.stderr, `updated ${spec.name} (${r.updated.join(', ') || 'log directory'})` + (r.backup ? `; what it replaced is kept in ${io.root.display(r.backup)}` : ''));
          info(io.stderr, `restart it to use the new definition: ${djbpkgCommand(io.root, ['service', 'restart', spec.name])}`);
        } else info(io.stderr, `${spec.name} is already defined exactly so; nothing changed`);
        if (r.created) info(io.stderr, `start it with: ${djbpkgCommand(io.root, ['service', 'enable', spec.name])}`);
      },
    },
    {
      command: 'enable <name>',
      describe: 'link ROOT/service/NAME to the definition (atomically); svscan starts it within 5 seconds',
      builder: (yy) => waitOption(yy, 0, 'until it is up') as never,
      handler: async (args: ServiceArgs) => {
        const c = await enableService(io.root, args.name, waitSeconds(args));
        report(args, c, c.changed ? `enabled ${c.name}` + (args.wait > 0 ? `: ${stateText(c.state, nowMs())}` : '') : `${c.name} is already enabled`);
      },
    },
    {
      command: 'disable <name>',
      describe: 'unlink ROOT/service/NAME, then svc -dx the service and its logger, and wait until both have exited',
      builder: (yy) => waitOption(yy, DEFAULT_DISABLE_WAIT, 'for both supervise processes to exit') as never,
      handler: async (args: ServiceArgs) => {
        const c = await disableService(io.root, args.name, waitSeconds(args));
        report(args, c, c.changed ? `disabled ${c.name}: stopped, and svscan will not restart it` : `${c.name} is already disabled`);
      },
    },
    {
      command: 'remove <name>',
      describe: 'disable NAME and delete its definition (its logs are kept unless --purge-logs)',
      builder: (yy) =>
        waitOption(yy, DEFAULT_DISABLE_WAIT, 'for both supervise processes to exit').option('purge-logs', {
          type: 'boolean',
          default: false,
          describe: 'also delete ROOT/var/multilog/NAME',
        }) as never,
      handler: async (args: ServiceArgs) => {
        const r = await removeService(io.root, args.name, { waitSeconds: waitSeconds(args), purgeLogs: args['purge-logs'] });
        const kept = r.logsPurged ? 'its logs were deleted' : 'its logs are kept (--purge-logs deletes them)';
        report(args, r, r.changed ? `removed ${r.name}; ${kept}` : `no service ${r.name}; nothing to remove`, { logsPurged: r.logsPurged });
      },
    },
    transitionCommand('start', 'bring NAME up', '-u'),
    transitionCommand('stop', 'bring NAME down', '-d'),
    transitionCommand('restart', 'restart NAME', '-t'),
    {
      command: 'status [names..]',
      describe: 'one line per service and logger: up, down or crash-looping, pid, seconds, restarts, last exit; exit 111 if any that should be up is not up',
      handler: async (args: ServiceArgs) => {
        await runStatus(io, args.names, args.json, (s) => stateJson(s, nowMs()), (s) => stateText(s, nowMs()));
      },
    },
    {
      command: 'logs <name>',
      describe: "print NAME's log with local times (as tai64nlocal does); -f follows it through rotations",
      builder: (yy) =>
        yy
          .option('lines', { alias: 'n', type: 'string', default: '10', requiresArg: true, describe: 'print the last LINES lines' })
          .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'keep printing new lines until interrupted' }) as never,
      handler: async (args: ServiceArgs) => {
        const lines = wholeNumber(args.lines);
        const dir = logDirOf(io.root, args.name);
        const from = logPosition(dir);
        const out = tailLog(dir, lines);
        if (out.length) io.stdout.write(out.join('\n') + '\n');
        const failing = reportLogger(io, args.name, dir, out.length, lines);
        if (!args.follow) {
          if (failing) throw failing;
          return;
        }
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await followLog(dir, (line) => io.stdout.write(line + '\n'), stop.signal, undefined, from);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      },
    },
  ];
  return {
    command: 'service',
    describe: 'add, enable, disable, remove, start, stop, restart services; status and logs',
    builder: (y) => {
      for (const sub of subcommands) y.command(ownOptionsFirst(sub));
      return y.command('$0 [verb]', false, () => {}, (args) => {
        const word = args.verb as string | undefined;
        throw new DjbError('E_USAGE', word === undefined ? 'no service verb given' : `unknown service verb: ${word}`, {
          hint: `use one of ${SERVICE_VERBS.join(', ')} (djbpkg service --help)`,
        });
      }) as never;
    },
    handler: () => {},
  };
}
