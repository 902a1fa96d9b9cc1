import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DjbError, describeCause, ioError } from '../core/errors.js';
import { inside } from '../core/root.js';
import { applyFilePatch, chooseStrip, parsePatch, patchedPath, stripPath, targetPath } from '../patch/index.js';
import type { FilePatch } from '../patch/index.js';

export interface PatchSetToApply {
  name: string;
  /** Absolute path of the patch file. */
  file: string;
}

export interface PatchSetResult {
  name: string;
  status: 'applied' | 'already-applied';
  /** Tree-relative paths the set touches, in patch order. */
  files: string[];
  /** The `-pN` level used. */
  strip: number;
}

/** A file of the tree as the sets so far leave it; `undefined` text means absent. */
interface Staged {
  full: string;
  original: string | undefined;
  current: string | undefined;
  mode: number | undefined;
}

type Tree = Map<string, Staged>;

const NEW_FILE_MODE = 0o644;
const MAX_STRIP_PROBE = 8;

/** Files are handled as latin1 so that every byte survives the round trip unchanged. */
const ENCODING = 'latin1';

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function refuse(name: string, err: unknown): DjbError {
  if (err instanceof DjbError && err.code === 'E_PATCH') {
    return new DjbError('E_PATCH', `patch ${name}: ${err.message}`, { cause: err, hint: err.hint });
  }
  if (err instanceof DjbError && err.code === 'E_USAGE') {
    return new DjbError('E_PATCH', `patch ${name}: ${err.message}`, { cause: err });
  }
  return err instanceof DjbError ? err : ioError(`patch ${name}`, err);
}

/** Nearest existing ancestor of `full` (itself included), resolved through symlinks. */
async function realAncestor(full: string): Promise<string> {
  let dir = full;
  for (;;) {
    try {
      return await fs.realpath(dir);
    } catch (err) {
      const up = path.dirname(dir);
      if (!isMissing(err) || up === dir) throw err;
      dir = up;
    }
  }
}

/**
 * Reads one target file into the staged tree. The path must stay inside the
 * tree lexically and after symlinks, and must be a regular file (never a
 * link: writing through one could reach outside the tree).
 */
async function load(tree: Tree, treeDir: string, realTree: string, rel: string): Promise<Staged> {
  const known = tree.get(rel);
  if (known) return known;
  const full = inside(treeDir, rel);
  const parentReal = await realAncestor(path.dirname(full));
  if (parentReal !== realTree && !parentReal.startsWith(realTree + path.sep)) {
    throw new DjbError('E_PATCH', `refusing ${rel}: its directory leads outside ${treeDir}`);
  }
  let staged: Staged;
  try {
    const st = await fs.lstat(full);
    if (!st.isFile()) throw new DjbError('E_PATCH', `refusing ${rel}: not a regular file`);
    staged = { full, original: await fs.readFile(full, ENCODING), current: undefined, mode: st.mode & 0o7777 };
    staged.current = staged.original;
  } catch (err) {
    if (!isMissing(err)) throw err;
    staged = { full, original: undefined, current: undefined, mode: undefined };
  }
  tree.set(rel, staged);
  return staged;
}

/** True when `rel` is a file of the tree as patched so far (a staged edit, else the regular file on disk). */
async function fileInTree(tree: Tree, treeDir: string, rel: string): Promise<boolean> {
  const staged = tree.get(rel);
  if (staged) return staged.current !== undefined;
  try {
    return (await fs.lstat(inside(treeDir, rel))).isFile();
  } catch {
    return false;
  }
}

/** chooseStrip wants a synchronous test: probe every candidate path first. */
async function pickStrip(files: FilePatch[], tree: Tree, treeDir: string): Promise<number> {
  const present = new Set<string>();
  for (const file of files) {
    const written = patchedPath(file);
    if (written.startsWith('/') || written.split('/').includes('..')) continue;
    for (let level = 0; level <= MAX_STRIP_PROBE; level++) {
      const rel = stripPath(written, level);
      if (rel !== undefined && (await fileInTree(tree, treeDir, rel))) present.add(rel);
    }
  }
  return chooseStrip(files, (rel) => present.has(rel));
}

async function readPatch(set: PatchSetToApply): Promise<string> {
  try {
    return await fs.readFile(set.file, ENCODING);
  } catch (err) {
    if (isMissing(err)) throw new DjbError('E_PATCH', `patch ${set.name}: unable to read ${set.file}: ${describeCause(err)}`);
    throw ioError(`patch ${set.name}: unable to read ${set.file}`, err);
  }
}

async function stageSet(tree: Tree, treeDir: string, realTree: string, set: PatchSetToApply): Promise<PatchSetResult> {
  const text = await readPatch(set);
  try {
    const files = parsePatch(text);
    const strip = await pickStrip(files, tree, treeDir);
    const touched: string[] = [];
    const patched: string[] = [];
    const skipped: string[] = [];
    for (const file of files) {
      const rel = targetPath(file, strip);
      const staged = await load(tree, treeDir, realTree, rel);
      const result = applyFilePatch(staged.current, file, strip);
      staged.current = result.text;
      touched.push(rel);
      (result.status === 'applied' ? patched : skipped).push(rel);
    }
    if (patched.length > 0 && skipped.length > 0) {
      throw new DjbError(
        'E_PATCH',
        `partly applied already: ${skipped.join(', ')} already patched, ${patched.join(', ')} not`,
        { hint: 'start again from a pristine tree' },
      );
    }
    return { name: set.name, status: patched.length > 0 ? 'applied' : 'already-applied', files: touched, strip };
  } catch (err) {
    throw refuse(set.name, err);
  }
}

function tempName(full: string): string {
  return path.join(path.dirname(full), `.${path.basename(full)}{djbpkg-patch-${randomBytes(6).toString('hex')}}`);
}

/** Writes every changed file under a temp name, then renames them all into place; deletions come last. */
async function commit(tree: Tree): Promise<void> {
  const changed = [...tree.values()].filter((s) => s.current !== s.original);
  const written: Array<{ temp: string; full: string }> = [];
  try {
    for (const s of changed) {
      if (s.current === undefined) continue;
      await fs.mkdir(path.dirname(s.full), { recursive: true });
      const temp = tempName(s.full);
      written.push({ temp, full: s.full });
      await fs.writeFile(temp, s.current, { encoding: ENCODING, flag: 'wx', mode: NEW_FILE_MODE });
      await fs.chmod(temp, s.mode ?? NEW_FILE_MODE);
    }
  } catch (err) {
    await Promise.all(written.map((w) => fs.rm(w.temp, { force: true })));
    throw ioError('unable to write patched file', err);
  }
  for (const w of written) {
    try {
      await fs.rename(w.temp, w.full);
    } catch (err) {
      throw ioError(`unable to rename ${w.temp} to ${w.full}`, err);
    }
  }
  for (const s of changed) {
    if (s.current !== undefined) continue;
    try {
      await fs.rm(s.full, { force: true });
    } catch (err) {
      throw ioError(`unable to remove ${s.full}`, err);
    }
  }
}

/**
 * Applies patch sets, in order, to the tree at `treeDir`, all or nothing:
 * every target is read and every new text computed in memory (each set
 * sees the output of the sets before it) before any file is written; a set
 * whose files are all already patched is reported `already-applied` and
 * changes nothing. Written files keep their mode; each is written under a
 * temp name and renamed. Throws E_PATCH (`patch NAME: FILE: hunk N does not
 * apply`) with the tree untouched when anything fails to apply or a patch
 * names a path outside the tree.
 */
export async function applyPatchSets(treeDir: string, sets: PatchSetToApply[]): Promise<PatchSetResult[]> {
  const base = path.resolve(treeDir);
  let realTree: string;
  try {
    realTree = await fs.realpath(base);
  } catch (err) {
    throw ioError(`unable to open tree ${base}`, err);
  }
  const tree: Tree = new Map();
  const results: PatchSetResult[] = [];
  for (const set of sets) results.push(await stageSet(tree, base, realTree, set));
  await commit(tree);
  return results;
}
