import { need } from '../context.js';
import type { InstallContext } from '../context.js';
import { copyManPages, manPageNames } from '../man.js';
import type { Stage } from '../pipeline.js';

/** Manual pages (install/man.ts): copied into the staged tree here, linked by the links stage. */
export const manStage: Stage<InstallContext> = {
  name: 'man',
  async run(ctx) {
    const names = await copyManPages(need(ctx.staged, 'staging').tree, manPageNames(need(ctx.split, 'commands').present));
    return { changed: false, notes: [names.length ? `copied manual pages ${names.map((n) => `${n}.8`).join(' ')}` : 'no manual pages for these commands'] };
  },
  async plan(ctx) {
    const names = ctx.split ? manPageNames(ctx.split.present) : [];
    return [names.length ? `copy manual pages ${names.map((n) => `${n}.8`).join(' ')} into man/man8 and link them into /usr/local/share/man/man8` : 'copy the manual pages of the commands, if djbpkg has any'];
  },
};
