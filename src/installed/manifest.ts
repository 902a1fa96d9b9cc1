import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import { Root } from '../core/root.js';
import { sha256File } from '../core/fs.js';

/** Where the manifest lives inside a package directory. */
export const MANIFEST_FILE = 'package/manifest';
const HEADER = '# djbpkg manifest 1: kind<TAB>mode-or-target<TAB>sha256<TAB>path';

/**
 * One installed object. Paths of `file`/`dir`/`link` are relative to the
 * package directory; `rootlink` paths are absolute as the target system sees
 * them (`/command/svc`).
 */
export type ManifestEntry =
  | { kind: 'file'; path: string; mode: number; sha256: string }
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'link'; path: string; target: string }
  | { kind: 'rootlink'; path: string; target: string };

/** Every object under `dir` (the manifest file itself excluded), sorted by path. */
export async function scanTree(dir: string): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  async function walk(rel: string): Promise<void> {
    const names = (await readdir(path.join(dir, rel))).sort();
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (r === MANIFEST_FILE) continue;
      const full = path.join(dir, r);
      const st = await lstat(full);
      if (st.isSymbolicLink()) out.push({ kind: 'link', path: r, target: await readlink(full) });
      else if (st.isDirectory()) {
        out.push({ kind: 'dir', path: r, mode: st.mode & 0o7777 });
        await walk(r);
      } else if (st.isFile()) out.push({ kind: 'file', path: r, mode: st.mode & 0o7777, sha256: await sha256File(full) });
    }
  }
  try {
    await walk('');
  } catch (err) {
    throw ioError(`unable to read ${dir}`, err);
  }
  return out;
}

function field(s: string): string {
  if (/[\t\n]/.test(s)) throw new DjbError('E_INTERNAL', `manifest cannot record a name with a tab or newline: ${JSON.stringify(s)}`);
  return s;
}

export function formatManifest(entries: readonly ManifestEntry[]): string {
  const lines = [HEADER];
  for (const e of entries) {
    const mode = 'mode' in e ? e.mode.toString(8).padStart(4, '0') : '';
    if (e.kind === 'file') lines.push(['file', mode, e.sha256, field(e.path)].join('\t'));
    else if (e.kind === 'dir') lines.push(['dir', mode, '-', field(e.path)].join('\t'));
    else lines.push([e.kind, field(e.target), '-', field(e.path)].join('\t'));
  }
  return lines.join('\n') + '\n';
}

export function parseManifest(text: string, where: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [kind, a, b, p] = line.split('\t');
    if (p === undefined || a === undefined || b === undefined) throw new DjbError('E_IO', `${where}: malformed line: ${line}`, { temporary: false });
    if (kind === 'file') out.push({ kind, path: p, mode: parseInt(a, 8), sha256: b });
    else if (kind === 'dir') out.push({ kind, path: p, mode: parseInt(a, 8) });
    else if (kind === 'link' || kind === 'rootlink') out.push({ kind, path: p, target: a });
    else throw new DjbError('E_IO', `${where}: unknown kind ${kind}`, { temporary: false });
  }
  return out;
}

export interface VerifyResult {
  /** Objects whose content, mode, type or link target differ from the manifest. */
  changed: string[];
  /** Objects in the manifest that are gone. */
  missing: string[];
}

/** Compares the objects the manifest names with what is on disk now. */
export async function verifyManifest(root: Root, packageDir: string, entries: readonly ManifestEntry[]): Promise<VerifyResult> {
  const changed: string[] = [];
  const missing: string[] = [];
  for (const e of entries) {
    const full = e.kind === 'rootlink' ? root.join(e.path) : path.join(packageDir, e.path);
    const shown = e.kind === 'rootlink' ? e.path : root.inRoot(full);
    let st;
    try {
      st = await lstat(full);
    } catch {
      missing.push(shown);
      continue;
    }
    let same: boolean;
    if (e.kind === 'link' || e.kind === 'rootlink') same = st.isSymbolicLink() && (await readlink(full)) === e.target;
    else if (e.kind === 'dir') same = st.isDirectory() && (st.mode & 0o7777) === e.mode;
    else same = st.isFile() && (st.mode & 0o7777) === e.mode && (await sha256File(full)) === e.sha256;
    if (!same) changed.push(shown);
  }
  return { changed, missing };
}

/**
 * The installed package directory of `name` (`ROOT/package/CATEGORY/NAME`,
 * the current-version link, followed), or undefined when not installed.
 */
export async function findInstalled(root: Root, name: string): Promise<string | undefined> {
  let categories: string[];
  try {
    categories = await readdir(root.packageDir);
  } catch {
    return undefined;
  }
  for (const cat of categories.sort()) {
    const dir = path.join(root.packageDir, cat, name);
    try {
      const target = await readlink(dir);
      return path.resolve(path.dirname(dir), target);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Reads the manifest of the installed `name` and reports changed and missing objects. */
export async function verifyInstalled(root: Root | string, name: string): Promise<VerifyResult> {
  const r = typeof root === 'string' ? new Root(root) : root;
  const pkg = await findInstalled(r, name);
  if (!pkg) throw new DjbError('E_NOT_INSTALLED', `${name} is not installed under ${r.dir}`);
  const file = path.join(pkg, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw ioError(`unable to read manifest ${file}`, err);
  }
  return verifyManifest(r, pkg, parseManifest(text, file));
}
