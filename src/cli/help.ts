import type { Argv, CommandModule } from 'yargs';
import { DjbError } from '../core/errors.js';
import { nearest } from './validate.js';

/**
 * Help and usage errors a person can act on: each verb's --help lists its
 * own options before the global ones, and an unknown option is answered
 * with the nearest one the verb knows.
 */

/** The heading of the options every verb takes. */
export const GLOBAL_GROUP = 'Global options:';

interface OptionsView {
  getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> };
}

function optionKeys(y: unknown): string[] {
  const o = (y as OptionsView).getOptions();
  const keys = Object.keys(o.key);
  // One name per option: a one-letter alias of a longer name is not listed again.
  const aliases = new Set(Object.entries(o.alias).flatMap(([k, vs]) => (k.length > 1 ? vs.filter((v) => v.length === 1) : [])));
  return keys.filter((k) => !aliases.has(k) && !(k.length === 1 && (o.alias[k] ?? []).some((a) => a.length > 1)) && !POSITIONAL_NAMES.has(k));
}

/** The options of the verb being parsed (set by its builder), for suggestions. */
let verbOptions: string[] = [];

/** Wraps a command so that the options its builder adds are grouped first, under `Options:`. */
export function ownOptionsFirst<T, U>(mod: CommandModule<T, U>): CommandModule<T, U> {
  const builder = mod.builder;
  if (typeof builder !== 'function') return mod;
  return {
    ...mod,
    builder: (y: Argv<T>) => {
      const before = new Set(optionKeys(y));
      const out = ((builder(y) as Argv<U> | undefined) ?? y) as Argv<U>;
      const all = optionKeys(out);
      const keys = all.filter((k) => !before.has(k));
      verbOptions = all;
      if (keys.length > 0) out.group(keys, 'Options:');
      return out;
    },
  } as CommandModule<T, U>;
}

/** Positional names the verbs use (shown under Positionals:, never grouped or suggested as options). */
const POSITIONAL_NAMES = new Set(['spec', 'name', 'names', 'command', 'verb', 'target', 'package', 'what', '_', '$0']);

/**
 * yargs' "Unknown argument(s): x, y" as one line with a suggestion: an
 * unknown `--option` gets the nearest option of this verb; a stray word is
 * named as such.
 */
export function unknownArgumentError(line: string, argv: readonly string[], globals: readonly string[]): DjbError | undefined {
  const m = /^Unknown arguments?: (.+)$/.exec(line);
  if (!m) return undefined;
  const words = m[1]!.split(', ');
  const known = [...new Set([...verbOptions, ...globals])].filter((k) => k.length > 1);
  for (const w of words) {
    const dashed = argv.find((a) => a === `--${w}` || a.startsWith(`--${w}=`) || a === `-${w}`);
    if (dashed !== undefined || argv.some((a) => /^-[A-Za-z]+$/.test(a) && a.slice(1).includes(w) && w.length === 1)) {
      const shown = w.length === 1 ? `-${w}` : `--${w}`;
      const near = w.length > 1 ? nearest(w, known) : undefined;
      return new DjbError('E_USAGE', `unknown option ${shown}`, { hint: near ? `did you mean --${near}? (djbpkg COMMAND --help lists the options)` : 'djbpkg COMMAND --help lists the options' });
    }
  }
  return new DjbError('E_USAGE', `unexpected argument${words.length > 1 ? 's' : ''} ${words.join(' ')}`, { hint: 'see djbpkg COMMAND --help for what the command takes' });
}

/** Options that take a value, so the word after them is not a verb. */
const VALUED = new Set(['--root', '--recipes', '--distfiles', '--mirror', '--with', '--without', '--build', '--boot', '--lock-wait', '--user', '--log-user', '--env', '--wait', '--lines', '-n', '--kill-after', '--package-home']);

/**
 * `djbpkg service WORD`: an unknown WORD is named as the unknown command it
 * is, with the nearest service verb (yargs would complain about the next
 * word instead: `Unknown argument: web`).
 */
export function checkSubVerb(argv: readonly string[], verb: string, verbs: readonly string[]): void {
  if (argv.includes('--get-yargs-completions')) return;
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (VALUED.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) words.push(a);
  }
  if (words[0] !== verb || words[1] === undefined || verbs.includes(words[1])) return;
  const near = nearest(words[1], verbs);
  throw new DjbError('E_USAGE', `unknown command: ${verb} ${words[1]}`, {
    hint: near ? `did you mean djbpkg ${verb} ${near}? (djbpkg ${verb} --help lists them)` : `use one of ${verbs.join(', ')} (djbpkg ${verb} --help)`,
  });
}
