import type { InstallContext } from '../context.js';
import { applyInitSteps, mkdirRecorded, planPackageHome, undoMade } from '../init.js';
import type { Stage } from '../pipeline.js';

/** ROOT/package (mode 1755 as slashpackage asks) and its CATEGORY directory. */
export const packageHomeStage: Stage<InstallContext> = {
  name: 'package-home',
  async run(ctx) {
    const steps = await planPackageHome(ctx.root);
    await applyInitSteps(steps, ctx.made, ctx.txn);
    await mkdirRecorded(ctx.root.categoryDir(ctx.recipe.category), 0o755, ctx.made, ctx.txn);
    return { changed: ctx.made.length > 0, notes: steps.map((s) => (s.action === 'exists' ? s.detail : `${s.detail}: done`)) };
  },
  async undo(ctx) {
    await undoMade(ctx.made);
  },
  async plan(ctx) {
    return (await planPackageHome(ctx.root)).filter((s) => s.action !== 'exists').map((s) => s.detail);
  },
};
