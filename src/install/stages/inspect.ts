import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { DjbError } from '../../core/errors.js';
import { splitVersionDir } from '../../installed/installed.js';
import { linksInto } from '../../installed/remove.js';
import { splitCommands } from '../build.js';
import { isClassic, need, topDir } from '../context.js';
import type { InstallContext } from '../context.js';
import { scanArchive } from '../extract.js';
import { conflictError, findConflicts, wantedLinks } from '../layout.js';
import { manLinks, manPageNames } from '../man.js';
import type { Stage } from '../pipeline.js';

/** Checks the archive is safe to unpack, finds its commands and the links they want, and refuses conflicts (unless --force). */
export const inspectStage: Stage<InstallContext> = {
  name: 'inspect',
  async run(ctx) {
    return { changed: false, notes: await inspect(ctx) };
  },
  async plan(ctx) {
    if (!ctx.distfile) {
      const known = isClassic(ctx.recipe) ? ctx.recipe.commands : undefined;
      if (known) {
        // A classic recipe names its programs, so the links can be planned before the download.
        ctx.split = { present: [...known], missing: [] };
        ctx.links = wantedLinks(ctx.root, ctx.recipe, known);
      }
      return [`check the archive (members, top directory${known ? '' : ', package/commands'}) once downloaded`];
    }
    return (await inspect(ctx)).map((n) => `find ${n}`);
  },
};

async function inspect(ctx: InstallContext): Promise<string[]> {
  const distfile = need(ctx.distfile, 'distfile');
  const scan = await scanArchive(distfile, topDir(ctx.recipe));
  const commands = isClassic(ctx.recipe) ? ctx.recipe.commands : scan.commands;
  if (!commands) throw new DjbError('E_ARCHIVE', `${path.basename(distfile)} has no ${scan.top}/package/commands`);
  ctx.scan = scan;
  ctx.split = ctx.opts.build === 'native' ? { present: [...commands], missing: [] } : splitCommands(commands, ctx.binDir);
  ctx.links = [...wantedLinks(ctx.root, ctx.recipe, ctx.split.present), ...manLinks(ctx.root, ctx.recipe, manPageNames(ctx.split.present))];
  const notes = [`archive is safe to unpack: ${scan.members.length} members under ${scan.top}/`];
  notes.push(`commands: ${ctx.split.present.join(' ') || '(none)'}`);
  if (ctx.split.missing.length) notes.push(`not in the TypeScript runtime yet, not installed: ${ctx.split.missing.join(' ')}`);
  ctx.staleLinks = await staleLinks(ctx);
  if (ctx.staleLinks.length) notes.push(`links of commands this version lacks, to be removed: ${ctx.staleLinks.map((l) => ctx.root.display(l.path)).join(' ')}`);
  const conflicts = await findConflicts(ctx.links);
  if (conflicts.length && !ctx.opts.force) throw conflictError(ctx.root, conflicts);
  for (const c of conflicts) notes.push(`--force: replacing ${ctx.root.display(c.path)} (${c.what})`);
  return notes;
}

/**
 * /command, /usr/local/bin and man8 links into this package (any version, or
 * the NAME link) that the version being installed does not want.
 */
async function staleLinks(ctx: InstallContext): Promise<{ path: string; target: string }[]> {
  const catDir = ctx.root.categoryDir(ctx.recipe.category);
  const names = await readdir(catDir).catch(() => [] as string[]);
  const dirs = [path.join(catDir, ctx.recipe.name), ...names.filter((n) => splitVersionDir(n)?.name === ctx.recipe.name).map((n) => path.join(catDir, n))];
  const keep = new Set(need(ctx.links, 'links').map((l) => l.path));
  return (await linksInto(ctx.root, dirs)).filter((l) => !keep.has(l.path));
}
