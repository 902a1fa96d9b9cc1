import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import { fetchDistfile } from '../install/fetch.js';
import { resolveRecipe } from '../recipe/index.js';
import { extraRecipeDirs, fetchOptions } from './fetch-options.js';
import { md5OnlyWarning } from '../install/verify.js';
import type { GlobalArgs } from './fetch-options.js';
import { json, warn } from './render.js';

interface FetchArgs extends GlobalArgs {
  package: string;
}

/** `djbpkg fetch NAME[@RANGE]`: the distfile into the cache, verified. */
export function fetchCommand(io: Io): CommandModule<GlobalArgs, FetchArgs> {
  return {
    command: 'fetch <package>',
    describe: 'download a distfile into the cache and verify it (cache, --mirror URLs, then the recipe URLs)',
    builder: (y) =>
      y.positional('package', { type: 'string', describe: 'NAME or NAME@RANGE, e.g. daemontools@^0.76', demandOption: true }),
    handler: async (args) => {
      const recipe = await resolveRecipe(args.package, extraRecipeDirs(args));
      if (recipe.sha256 === undefined) warn(io.stderr, md5OnlyWarning(recipe.name, recipe.version));
      const result = await fetchDistfile(recipe, fetchOptions(args, io));
      if (args.json) {
        json(io.stdout, result);
        return;
      }
      const from = result.source === 'cache' ? 'already in the cache' : `from ${result.source}`;
      io.stdout.write(`${result.distfile}: verified, ${from}\n`);
      io.stdout.write(`  path     ${result.path}\n  size     ${result.size}\n  MD5      ${result.md5}\n  SHA-256  ${result.sha256}\n`);
    },
  };
}
