import { examineCache, sourcesFor } from '../fetch.js';
import type { CachedCopy } from '../fetch.js';
import type { InstallContext } from '../context.js';
import type { Stage } from '../pipeline.js';

/**
 * Puts the verified distfile into the cache (deps.fetchDistfile). The plan
 * asks the cache the same question fetch asks (examineCache: size, MD5,
 * SHA-256) and names the same URLs (sourcesFor), so it cannot say otherwise.
 */
export const fetchStage: Stage<InstallContext> = {
  name: 'fetch',
  async run(ctx) {
    const got = await ctx.deps.fetchDistfile(ctx.recipe, {
      distfiles: ctx.opts.distfiles,
      mirrors: ctx.opts.mirrors,
      offline: ctx.opts.offline,
      env: ctx.env,
    });
    ctx.distfile = got.path;
    return { changed: false, notes: [`${ctx.recipe.distfile} verified (${got.source === 'cache' ? 'from the cache' : `from ${got.source}`})`] };
  },
  async plan(ctx) {
    let cached: CachedCopy;
    try {
      cached = await examineCache(ctx.recipe, ctx.opts.distfiles);
    } catch (err) {
      return [`fail: ${(err as Error).message}`];
    }
    if (cached.state === 'good') {
      ctx.distfile = cached.path;
      return [`use ${cached.path} from the cache (digests match)`];
    }
    if (cached.state === 'bad') {
      return [ctx.opts.offline ? `fail: ${cached.path} does not match the recipe and --offline is set` : `replace ${cached.path} (digests do not match the recipe) by a download`];
    }
    const from = sourcesFor(ctx.recipe, ctx.opts.mirrors);
    return [ctx.opts.offline ? `fail: ${ctx.recipe.distfile} is not in the cache and --offline is set` : `download ${ctx.recipe.distfile} from ${from.join(' or ')}`];
  },
};
