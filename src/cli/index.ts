import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { DjbError } from '../core/errors.js';
import { EXIT_OK } from '../core/exit.js';
import { setHintOptions } from '../core/hint.js';
import type { Io } from '../core/io.js';
import { COMMANDS } from './commands.js';
import { checkArgs, checkRootArg, checkVerb, nearest, recoverFirst } from './validate.js';
import { COMPLETION_MACHINERY } from './completion.js';
import { GLOBAL_GROUP, checkSubVerb, ownOptionsFirst, unknownArgumentError } from './help.js';
import { SERVICE_VERBS } from './service.js';
import { renderError } from './render.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Parses argv, runs one verb, returns the exit code. Never throws. */
export async function main(argv: string[], io: Io): Promise<number> {
  const verbose = argv.includes('--verbose') || /\bdjbpkg\b/.test(io.env.DEBUG ?? '');
  let exitCode = EXIT_OK;
  setHintOptions({});
  try {
    checkRootArg(argv, io);
    checkVerb(argv, [...COMMANDS.map((make) => String(make(io).command ?? '').split(' ')[0]!), COMPLETION_MACHINERY]);
    checkSubVerb(argv, 'service', SERVICE_VERBS);
    const parser = yargs()
      .scriptName('djbpkg')
      .usage('$0 <command> [options]\n\nInstall D. J. Bernstein\'s software the slashpackage way.')
      .option('root', {
        type: 'string',
        requiresArg: true,
        describe: 'install into DIR as if it were / (env DJBPKG_ROOT)',
        default: io.env.DJBPKG_ROOT ?? '/',
        defaultDescription: '/',
      })
      .option('recipes', { type: 'string', requiresArg: true, coerce: toList, describe: 'extra recipe directory, searched before the bundled recipes (repeatable)' })
      .option('distfiles', { type: 'string', describe: 'download cache', defaultDescription: 'ROOT/usr/local/djb/dist' })
      .option('mirror', { type: 'string', requiresArg: true, coerce: toList, describe: 'base URL tried first for every distfile (repeatable)' })
      .option('offline', { type: 'boolean', default: false, describe: 'never touch the network; the distfile must be in the cache' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout' })
      .option('verbose', { type: 'boolean', default: false, describe: 'show stack traces on errors' })
      .command('$0', false, () => {}, (args) => {
        const word = args._[0];
        if (word === undefined) throw new DjbError('E_USAGE', 'no command given', { hint: 'see djbpkg --help' });
        const near = nearest(String(word), COMMANDS.map((make) => String(make(io).command ?? '').split(' ')[0]!));
        throw new DjbError('E_USAGE', `unknown command: ${word}`, {
          hint: near ? `did you mean djbpkg ${near}? (see djbpkg --help)` : 'see djbpkg --help',
        });
      })
      .middleware(async (args) => {
        checkArgs(args);
        setHintOptions({ recipes: args.recipes as string[] | undefined, distfiles: args.distfiles as string | undefined });
        await recoverFirst(io, args._[0] === undefined ? undefined : String(args._[0]));
      })
      .strict()
      .help()
      .alias('help', 'h')
      .version(packageVersion())
      .wrap(Math.min(100, process.stdout.columns ?? 80))
      .exitProcess(false)
      .fail((msg, err) => {
        if (err) throw err;
        const line = (msg ?? 'bad usage').replace(/\s*\n\s*/g, ' ').trim();
        throw unknownArgumentError(line, argv, GLOBAL_OPTIONS) ?? new DjbError('E_USAGE', line, { hint: 'see djbpkg --help (or djbpkg COMMAND --help)' });
      })
      .group([...GLOBAL_OPTIONS, 'help', 'version'], GLOBAL_GROUP);
    for (const make of COMMANDS) parser.command(ownOptionsFirst(make(io)));
    parser.completion(COMPLETION_MACHINERY, false);
    let helpText = '';
    await parser.parseAsync(argv, {}, (err, _argv, output) => {
      if (!err && output) helpText = output;
    });
    if (helpText) io.stdout.write(helpText + '\n');
  } catch (err) {
    exitCode = renderError(err, io.stderr, verbose);
  }
  return exitCode;
}

/** The options every verb takes, listed after each verb's own in its --help. */
const GLOBAL_OPTIONS = ['root', 'recipes', 'distfiles', 'mirror', 'offline', 'json', 'verbose'];

/** A repeatable option: one value per occurrence, never swallowing the operands after it. */
function toList(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map(String);
}
