import * as fsx from '../../posix/fsx.js';
import { need } from '../context.js';
import type { InstallContext } from '../context.js';
import { extractArchive } from '../extract.js';
import { versionDirName } from '../layout.js';
import type { Stage } from '../pipeline.js';

/** Unpacks the distfile into a staging directory beside the final tree (the journal knows it). */
export const extractStage: Stage<InstallContext> = {
  name: 'extract',
  async run(ctx) {
    const label = versionDirName(ctx.recipe);
    const catDir = ctx.root.categoryDir(ctx.recipe.category);
    await ctx.txn?.note({ op: 'staging', dir: catDir, label });
    fsx.step('extract', catDir);
    ctx.staged = await extractArchive(need(ctx.distfile, 'distfile'), need(ctx.scan, 'scan'), ctx.root.categoryDir(ctx.recipe.category), label);
    return { changed: false, notes: [`unpacked into ${ctx.root.display(ctx.staged.stagingDir)}`] };
  },
  async undo(ctx) {
    if (ctx.staged) await fsx.rmTree(ctx.staged.stagingDir);
  },
  async commit(ctx) {
    if (ctx.staged) await fsx.rmTree(ctx.staged.stagingDir);
  },
  async plan(ctx) {
    return [`unpack ${ctx.recipe.distfile} into a staging directory in ${ctx.root.display(ctx.root.categoryDir(ctx.recipe.category))}`];
  },
};
