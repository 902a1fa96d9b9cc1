import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import { outsideRoot } from '../core/confine.js';
import type { Root } from '../core/root.js';

/**
 * How far a journal left in a root is trusted. A root may have been prepared
 * by someone else (an image build, a container layer, a mounted disk); its
 * journal is replayed as root, so it is believed only when djbpkg itself can
 * have written it: a regular file owned by the user running djbpkg, mode
 * 0600, in a 0700 directory of that user, and every path it names lying
 * inside ROOT (no symlink followed out of it), backups only in the journal's
 * own directory. Anything else is refused and left for the admin.
 */

/** The fields of each record that name paths, and which of them are backups. */
const PATH_FIELDS: Record<string, readonly string[]> = {
  begin: [],
  commit: [],
  mkdir: ['path'],
  staging: ['dir'],
  tree: ['final', 'staged'],
  link: ['path'],
  moved: ['path', 'aside'],
  file: ['path'],
  unlinked: ['path'],
  aside: ['path', 'aside'],
  rmdir: ['path'],
};

function refused(journal: string, why: string): DjbError {
  return new DjbError('E_CONFLICT', `refusing the journal ${journal}: ${why}`, {
    temporary: false,
    hint: `nothing was done; a journal djbpkg did not write is not replayed: look at it, then remove ${path.dirname(journal)} by hand (djbpkg doctor explains)`,
  });
}

function myUid(): number {
  return process.getuid?.() ?? 0;
}

/** The journal directory: a real directory (not a symlink), owned by this user, mode 0700, inside ROOT. */
export async function checkJournalDir(root: Root, dir: string, journal: string): Promise<void> {
  const st = await lstat(dir).catch((err: unknown) => {
    throw ioError(`unable to examine the journal directory ${dir}`, err);
  });
  if (!st.isDirectory()) throw refused(journal, `${dir} is not a directory`);
  if (st.uid !== myUid()) throw refused(journal, `${dir} is owned by uid ${st.uid}, not by the user running djbpkg (uid ${myUid()})`);
  if ((st.mode & 0o7777) !== 0o700) throw refused(journal, `${dir} has mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, not 0700`);
  const why = outsideRoot(root, dir, true);
  if (why) throw refused(journal, `${dir} ${why}`);
}

/**
 * Reads the journal without following a symlink, and only when it is a
 * regular file owned by this user with mode 0600. Returns undefined when
 * there is none.
 */
export async function readTrustedJournal(journal: string): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(journal, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw refused(journal, 'it is a symlink');
    throw ioError(`unable to read the journal ${journal}`, err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refused(journal, 'it is not a regular file');
    if (st.uid !== myUid()) throw refused(journal, `it is owned by uid ${st.uid}, not by the user running djbpkg (uid ${myUid()})`);
    if ((st.mode & 0o7777) !== 0o600) throw refused(journal, `it has mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, not 0600`);
    return await fh.readFile('utf8');
  } catch (err) {
    if (err instanceof DjbError) throw err;
    throw ioError(`unable to read the journal ${journal}`, err);
  } finally {
    await fh.close().catch(() => {});
  }
}

function describeRecord(n: number, r: unknown): string {
  const op = r && typeof r === 'object' && typeof (r as { op?: unknown }).op === 'string' ? (r as { op: string }).op : '?';
  return `record ${n} (${op})`;
}

/**
 * Checks every record of a journal before any is acted on; throws one line
 * naming the first bad record.
 */
export async function checkRecords(root: Root, dir: string, journal: string, records: readonly unknown[]): Promise<void> {
  let n = 0;
  for (const r of records) {
    n++;
    const name = describeRecord(n, r);
    if (!r || typeof r !== 'object') throw refused(journal, `${name} is not an object`);
    const rec = r as Record<string, unknown>;
    const fields = typeof rec.op === 'string' ? PATH_FIELDS[rec.op] : undefined;
    if (fields === undefined) throw refused(journal, `${name} is not a record djbpkg writes`);
    for (const f of fields) {
      const p = rec[f];
      if (typeof p !== 'string') throw refused(journal, `${name} has no ${f} path`);
      const why = outsideRoot(root, p);
      if (why) throw refused(journal, `${name}: ${f} ${p} ${why}`);
    }
    if (rec.op === 'staging' && (typeof rec.label !== 'string' || rec.label === '' || rec.label.includes('/') || rec.label.startsWith('.'))) throw refused(journal, `${name} has a bad label`);
    if (rec.op === 'tree' && (typeof rec.ino !== 'number' || typeof rec.previous !== 'boolean')) throw refused(journal, `${name} is malformed`);
    if ((rec.op === 'link' && rec.before !== null && typeof rec.before !== 'string') || (rec.op === 'unlinked' && typeof rec.target !== 'string')) {
      throw refused(journal, `${name} has a bad link target`);
    }
    if (rec.op === 'file') {
      if (!Number.isInteger(rec.mode) || (rec.mode as number) < 0 || (rec.mode as number) > 0o7777) throw refused(journal, `${name} has a bad mode`);
      if (!Number.isInteger(rec.uid) || !Number.isInteger(rec.gid)) throw refused(journal, `${name} has a bad owner`);
      if (rec.backup !== null) {
        const b = rec.backup;
        if (typeof b !== 'string' || path.dirname(b) !== dir || !/^backup-[0-9]+$/.test(path.basename(b))) {
          throw refused(journal, `${name}: backup ${String(b)} is not a backup in the journal directory ${dir}`);
        }
        const st = await lstat(b).catch(() => undefined);
        if (st && (!st.isFile() || st.uid !== myUid())) throw refused(journal, `${name}: backup ${b} is not a regular file of the user running djbpkg`);
      }
    }
  }
}
