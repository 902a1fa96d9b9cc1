import * as fsx from '../../posix/fsx.js';
import { applyBoot, djbpkgHooks, ensureServiceDir, planBoot, undoBoot } from '../../boot/boot.js';
import { isClassic } from '../context.js';
import type { InstallContext } from '../context.js';
import type { Stage } from '../pipeline.js';

/** Only a slashpackage package (daemontools) hooks svscanboot into boot; classic ones (ucspi-tcp, djbdns) run under it. */
function startsSvscan(ctx: InstallContext): boolean {
  return !isClassic(ctx.recipe);
}

/** ROOT/service and the boot hook that starts svscanboot (boot/boot.ts). */
export const bootStage: Stage<InstallContext> = {
  name: 'boot',
  async run(ctx) {
    if (!startsSvscan(ctx)) return { changed: false, notes: ['a classic package starts no svscanboot; boot hook and /service left alone'] };
    ctx.serviceMade = await ensureServiceDir(ctx.root, ctx.txn);
    const plan = await planBoot(ctx.root, ctx.opts.boot);
    ctx.bootPlan = plan;
    const notes = [ctx.serviceMade ? `created ${ctx.root.display(ctx.root.serviceDir)}` : `${ctx.root.display(ctx.root.serviceDir)} exists`];
    notes.push(`chose ${plan.choice.mode} (${plan.choice.why})`);
    notes.push(...(await applyBoot(ctx.root, plan, ctx.bootUndo, ctx.txn)));
    const changed = ctx.serviceMade || ctx.bootUndo.files.length > 0 || ctx.bootUndo.links.length > 0 || ctx.bootUndo.dirs.length > 0;
    return { changed, notes };
  },
  async undo(ctx) {
    await undoBoot(ctx.bootUndo);
    if (ctx.serviceMade) await fsx.rmdir(ctx.root.serviceDir).catch(() => {});
  },
  async plan(ctx) {
    if (!startsSvscan(ctx)) return ['leave the boot hook alone (a classic package starts no svscanboot)'];
    const plan = await planBoot(ctx.root, ctx.opts.boot);
    ctx.bootPlan = plan;
    const lines = [`use boot method ${plan.choice.mode} (${plan.choice.why})`];
    for (const h of await djbpkgHooks(ctx.root)) if (h.mode !== plan.choice.mode) lines.push(`move the hook: remove djbpkg's ${h.mode} hook from ${ctx.root.display(h.file)}`);
    if (plan.file) {
      const where = ctx.root.display(plan.file);
      if (plan.status === 'added') lines.push(`add ${plan.line} to ${where}`);
      else if (plan.status === 'updated') lines.push(`correct the djbpkg svscanboot entry in ${where}`);
      else lines.push(`leave ${where} alone (already starts svscanboot${plan.status === 'hand-written' ? ', by hand' : ''})`);
    }
    lines.push(...plan.notes.map((n) => `note: ${n}`));
    return lines;
  },
};
