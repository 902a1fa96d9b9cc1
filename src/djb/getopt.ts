/**
 * djb's getopt (sgetopt, 0.76): options precede operands; parsing stops at the
 * first word not starting with `-`, at a lone `-` (kept as an operand), or at
 * any word starting with `--` (consumed: `--`, and also `--help` or `--x`, end
 * the options without a message). Bundling is allowed; an option argument may
 * be attached or the next word, whatever that word looks like.
 */
export interface GetoptResult {
  /** Options in command-line order; `arg` set for options that take one. */
  opts: { opt: string; arg?: string }[];
  /** Remaining operands. */
  rest: string[];
  /** Set on the first error: the message (without trailing newline) to print. */
  error?: string;
}

/**
 * `spec` lists option letters; a letter followed by `:` takes an argument.
 * `prog` is the name used in error messages (basename of argv[0]).
 */
export function getopt(args: readonly string[], spec: string, prog: string): GetoptResult {
  const opts: GetoptResult['opts'] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i]!;
    if (word.length < 2 || word[0] !== '-') break;
    if (word[1] === '-') {
      i++;
      break;
    }
    for (let j = 1; j < word.length; j++) {
      const c = word[j]!;
      const at = c === ':' ? -1 : spec.indexOf(c);
      if (at < 0) {
        return { opts, rest: args.slice(i + 1), error: `${prog}: illegal option -- ${c}` };
      }
      if (spec[at + 1] === ':') {
        let arg = word.slice(j + 1);
        if (arg === '') {
          if (i + 1 >= args.length) {
            return { opts, rest: [], error: `${prog}: option requires an argument -- ${c}` };
          }
          arg = args[++i]!;
        }
        opts.push({ opt: c, arg });
        break;
      }
      opts.push({ opt: c });
    }
  }
  return { opts, rest: args.slice(i) };
}

/** Basename of argv[0], as djb's programs name themselves in getopt errors. */
export function progName(argv0: string | undefined, fallback: string): string {
  if (!argv0) return fallback;
  const slash = argv0.lastIndexOf('/');
  const base = slash >= 0 ? argv0.slice(slash + 1) : argv0;
  return base.replace(/\.js$/, '') || fallback;
}
