import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ioError } from '../../core/errors.js';
import * as fsx from '../../posix/fsx.js';
import { CHOICES_FILE, formatChoices } from '../../installed/installed.js';
import { isClassic, need } from '../context.js';
import type { InstallContext } from '../context.js';
import type { Stage } from '../pipeline.js';

/** Applies the chosen patch sets and records them, with the build and boot choices, in package/. */
export const patchStage: Stage<InstallContext> = {
  name: 'patch',
  async run(ctx) {
    const tree = need(ctx.staged, 'staging').tree;
    const notes: string[] = [];
    fsx.step('patch', tree);
    if (ctx.sets.length) {
      const results = await ctx.deps.applyPatchSets(tree, ctx.sets);
      for (const r of results) notes.push(r.status === 'applied' ? `applied ${r.name}` : `${r.name} is already applied in the source; skipped`);
    } else notes.push('no patch sets chosen');
    ctx.patchesApplied = ctx.sets.map((s) => s.name);
    try {
      if (isClassic(ctx.recipe)) await mkdir(path.join(tree, 'package'), { recursive: true });
      await writeFile(path.join(tree, 'package', 'patches'), ctx.patchesApplied.map((n) => n + '\n').join(''), { mode: 0o644 });
      await writeFile(path.join(tree, CHOICES_FILE), formatChoices({ patches: ctx.patchesApplied, build: ctx.opts.build, boot: ctx.bootMode }), { mode: 0o644 });
    } catch (err) {
      throw ioError(`unable to write ${path.join(tree, 'package')}`, err);
    }
    return { changed: false, notes };
  },
  async plan(ctx) {
    return ctx.sets.length ? ctx.sets.map((s) => `apply patch set ${s.name}`) : ['apply no patch sets'];
  },
};
