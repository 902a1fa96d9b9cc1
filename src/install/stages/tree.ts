import { finalDir, need } from '../context.js';
import type { InstallContext } from '../context.js';
import { installTree, undoTree } from '../layout.js';
import type { Stage } from '../pipeline.js';

/** Moves the staged tree to ROOT/package/CATEGORY/NAME-VERSION in one rename (a different tree there is swapped). */
export const treeStage: Stage<InstallContext> = {
  name: 'tree',
  async run(ctx) {
    const dest = finalDir(ctx);
    if (ctx.identical) return { changed: false, notes: [`${ctx.root.display(dest)} unchanged; leaving it alone`] };
    const staged = need(ctx.staged, 'staging');
    ctx.treeSwap = await installTree(staged.tree, dest, ctx.txn);
    return { changed: true, notes: [ctx.treeSwap.previous ? `replaced ${ctx.root.display(dest)} (the old tree is kept until the install succeeds)` : `installed ${ctx.root.display(dest)}`] };
  },
  async undo(ctx) {
    if (ctx.treeSwap) await undoTree(ctx.treeSwap);
  },
  async plan(ctx) {
    return [`move the staged tree to ${ctx.root.display(finalDir(ctx))} (swapping by rename if a different one is there)`];
  },
};
