import path from 'node:path';
import { ioError } from '../../core/errors.js';
import type { Root } from '../../core/root.js';
import * as fsx from '../../posix/fsx.js';
import type { TxnRecord } from '../../installed/txn.js';
import { need } from '../context.js';
import type { InstallContext } from '../context.js';
import { mkdirRecorded } from '../init.js';
import { applyLink, commitLink, inspectLink, undoLink } from '../layout.js';
import type { Stage } from '../pipeline.js';

/** Points /package/CATEGORY/NAME, /command/*, /usr/local/bin/* and the man8 links at the new tree; removes the stale ones. */
export const linksStage: Stage<InstallContext> = {
  name: 'links',
  async run(ctx) {
    const notes: string[] = [];
    const links = need(ctx.links, 'links');
    // One journal write for every link this stage may change.
    const records: TxnRecord[] = [];
    for (const l of links) {
      const s = await inspectLink(l);
      if (s.state === 'absent') records.push({ op: 'link', path: l.path, before: null });
      else if (s.state === 'ours') records.push({ op: 'link', path: l.path, before: s.target });
      else if (s.state === 'foreign') records.push({ op: 'moved', path: l.path, aside: `${l.path}{djbpkg-old}` }, { op: 'link', path: l.path, before: null });
    }
    for (const l of ctx.staleLinks ?? []) records.push({ op: 'link', path: l.path, before: l.target });
    for (const d of new Set(links.map((l) => path.dirname(l.path)))) await mkdirRecorded(d, 0o755, ctx.made, ctx.txn);
    await ctx.txn?.noteAll(records);
    for (const l of links) {
      const u = await applyLink(l, ctx.made);
      if (u) ctx.linkUndos.push(u);
    }
    for (const l of ctx.staleLinks ?? []) {
      try {
        await fsx.unlinkIfPresent(l.path);
      } catch (err) {
        throw ioError(`unable to remove ${l.path}`, err);
      }
      ctx.linkUndos.push({ path: l.path, before: 'link', target: l.target });
    }
    notes.push(ctx.linkUndos.length ? `changed ${ctx.linkUndos.length} link${ctx.linkUndos.length === 1 ? '' : 's'}: ${linksByDir(ctx.root, ctx.linkUndos.map((u) => u.path))}` : 'every link already in place');
    return { changed: ctx.linkUndos.length > 0, notes };
  },
  async undo(ctx) {
    for (const u of [...ctx.linkUndos].reverse()) await undoLink(u);
  },
  async commit(ctx) {
    for (const u of ctx.linkUndos) await commitLink(u);
  },
  async plan(ctx) {
    if (!ctx.links) return ['link /package/CATEGORY/NAME, /command/* and /usr/local/bin/*'];
    const lines: string[] = [];
    for (const l of ctx.links) {
      const s = await inspectLink(l);
      if (s.state !== 'same') lines.push(`link ${ctx.root.display(l.path)} -> ${l.target}`);
    }
    for (const l of ctx.staleLinks ?? []) lines.push(`remove ${ctx.root.display(l.path)} (a command this version lacks)`);
    return lines.length ? lines : ['leave every link as it is (already in place)'];
  },
};

/** `26 in ROOT/command, 26 in ROOT/usr/local/bin`: how many links changed where (one line, not every path). */
function linksByDir(root: Root, paths: readonly string[]): string {
  const count = new Map<string, number>();
  for (const p of paths) count.set(path.dirname(p), (count.get(path.dirname(p)) ?? 0) + 1);
  return [...count].map(([d, n]) => `${n} in ${root.display(d)}`).join(', ');
}
