import path from 'node:path';
import * as fsx from '../../posix/fsx.js';
import { buildTs } from '../build.js';
import { buildNative } from '../build-native.js';
import { checkMake, chooseFlags, detectCompiler } from '../compiler.js';
import { isClassic, need } from '../context.js';
import type { InstallContext } from '../context.js';
import type { Stage } from '../pipeline.js';
import { bundleDir } from '../runtime.js';

/** ts: writes command wrappers for the TypeScript runtime; native: compiles djb's C (install/build-native.ts). */
export const buildStage: Stage<InstallContext> = {
  name: 'build',
  async run(ctx) {
    const split = need(ctx.split, 'commands');
    fsx.step('build', need(ctx.staged, 'staging').tree);
    if (ctx.opts.build === 'native') {
      const staged = need(ctx.staged, 'staging');
      ctx.native = await buildNative({
        root: ctx.root,
        category: ctx.recipe.category,
        name: ctx.recipe.name,
        version: ctx.recipe.version,
        type: isClassic(ctx.recipe) ? 'classic' : 'slashpackage',
        tree: staged.tree,
        stagingDir: staged.stagingDir,
        commands: split.present,
        baseline: ctx.recipe.sysdeps ?? {},
        env: ctx.env,
        setuidgid: path.join(ctx.binDir ?? bundleDir(), 'setuidgid.js'),
      });
      return { changed: false, notes: ctx.native.notes };
    }
    await buildTs(need(ctx.staged, 'staging').tree, `${ctx.recipe.name} ${ctx.recipe.version}`, split.present, ctx.binDir);
    const notes = [`wrote ${split.present.length} command wrappers for the TypeScript runtime`];
    if (split.missing.length) notes.push(`warning: missing from the runtime, not installed: ${split.missing.join(' ')}`);
    return { changed: false, notes };
  },
  async plan(ctx) {
    if (ctx.opts.build === 'native') {
      const how = isClassic(ctx.recipe) ? `set conf-home to ${ctx.root.display(path.join(ctx.root.categoryDir(ctx.recipe.category), ctx.recipe.name))}, run make in the staged tree` : 'link src/ into compile/ as package/compile does, run make there';
      let tools: string;
      try {
        const c = detectCompiler(ctx.env);
        tools = `note: compiler ${c.versionLine || c.command}; conf-cc would be: ${chooseFlags(c).cc}; ${checkMake(ctx.env)}`;
      } catch (err) {
        tools = `note: the build would fail: ${(err as Error).message}`;
      }
      return [`compile with the system C compiler: ${how}, as an unprivileged user when run as root`, tools, `copy into command/: ${ctx.split?.present.join(' ') ?? 'the programs'}`, 'check the sysdeps the build probed against the known-good baseline'];
    }
    if (!ctx.split) return ['write command wrappers for every runtime program named in package/commands'];
    const lines = [`write command wrappers: ${ctx.split.present.join(' ') || '(none)'}`];
    if (ctx.split.missing.length) lines.push(`leave out (not in the runtime yet): ${ctx.split.missing.join(' ')}`);
    return lines;
  },
};
