import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ioError } from '../../core/errors.js';
import * as fsx from '../../posix/fsx.js';
import { MANIFEST_FILE, formatManifest, parseManifest, scanTree, verifyManifest } from '../../installed/manifest.js';
import type { ManifestEntry } from '../../installed/manifest.js';
import { finalDir, need } from '../context.js';
import type { InstallContext } from '../context.js';
import { REQUIRES_FILE, formatRequires } from '../deps.js';
import type { Stage } from '../pipeline.js';

/** Records the requirements and every file (with its SHA-256) and root link; notices a tree already installed exactly so. */
export const manifestStage: Stage<InstallContext> = {
  name: 'manifest',
  async run(ctx) {
    const tree = need(ctx.staged, 'staging').tree;
    fsx.step('manifest', tree);
    try {
      await writeFile(path.join(tree, REQUIRES_FILE), formatRequires(ctx.recipe.requires ?? []), { mode: 0o644 });
    } catch (err) {
      throw ioError(`unable to write ${path.join(tree, REQUIRES_FILE)}`, err);
    }
    const text = formatManifest([...(await scanTree(tree)), ...rootLinkEntries(ctx)]);
    try {
      await writeFile(path.join(tree, MANIFEST_FILE), text, { mode: 0o644 });
    } catch (err) {
      throw ioError(`unable to write ${path.join(tree, MANIFEST_FILE)}`, err);
    }
    ctx.identical = await sameInstalled(ctx, finalDir(ctx), text);
    return { changed: false, notes: [ctx.identical ? `${ctx.root.display(finalDir(ctx))} is already installed exactly so` : 'recorded every file with its SHA-256'] };
  },
  async plan() {
    return [`record every installed file with its SHA-256 in ${MANIFEST_FILE}`];
  },
};

function rootLinkEntries(ctx: InstallContext): ManifestEntry[] {
  return need(ctx.links, 'links')
    .filter((l) => path.dirname(l.path) !== ctx.root.categoryDir(ctx.recipe.category))
    .map((l) => ({ kind: 'rootlink' as const, path: ctx.root.inRoot(l.path), target: l.target }));
}

/** True when `dir` holds a tree whose manifest text is `text` and which still matches it. */
async function sameInstalled(ctx: InstallContext, dir: string, text: string): Promise<boolean> {
  let old: string;
  try {
    old = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    return false;
  }
  if (old !== text) return false;
  const entries = parseManifest(old, dir).filter((e) => e.kind !== 'rootlink');
  const v = await verifyManifest(ctx.root, dir, entries);
  return v.changed.length === 0 && v.missing.length === 0;
}
