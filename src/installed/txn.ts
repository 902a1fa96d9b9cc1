import { constants } from 'node:fs';
import { lstat, open, readFile, readdir, readlink, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import * as fsx from '../posix/fsx.js';
import { checkJournalDir, checkRecords, readTrustedJournal } from './journal-trust.js';

/**
 * The journal of one install or remove: ROOT/var/lib/djbpkg/txn/journal, one
 * JSON record per line, each appended and synced BEFORE the change it names.
 * So whatever point a run is killed at, the journal names every change that
 * may have been made, and `recover` can undo them (or, once `commit` is
 * written, finish the clean-up). Every undo below is idempotent: it checks
 * what is there and tolerates a change that never happened.
 */
export type TxnRecord =
  | { op: 'begin'; kind: 'install' | 'remove'; what: string; pid: number }
  | { op: 'mkdir'; path: string }
  | { op: 'staging'; dir: string; label: string }
  | { op: 'tree'; final: string; staged: string; ino: number; previous: boolean }
  | { op: 'link'; path: string; before: string | null }
  | { op: 'moved'; path: string; aside: string }
  | { op: 'file'; path: string; backup: string | null; mode: number; uid: number; gid: number }
  | { op: 'unlinked'; path: string; target: string }
  | { op: 'aside'; path: string; aside: string }
  | { op: 'rmdir'; path: string }
  | { op: 'commit' };

export function txnDir(root: Root): string {
  return path.join(root.stateDir, 'txn');
}

function journalPath(root: Root): string {
  return path.join(txnDir(root), 'journal');
}

/** An open transaction: records go to its journal before each change. */
export class Txn {
  private backups = 0;
  private constructor(
    readonly root: Root,
    private fh: FileHandle,
  ) {}

  /** Starts a transaction; the caller holds the root lock and has recovered any earlier one. */
  static async begin(root: Root, kind: 'install' | 'remove', what: string): Promise<Txn> {
    const dir = txnDir(root);
    const file = journalPath(root);
    let fh: FileHandle | undefined;
    try {
      await fsx.mkdir(dir, 0o700);
      fh = await fsx.createExclusive(file, 0o600);
      const t = new Txn(root, fh);
      await t.note({ op: 'begin', kind, what, pid: process.pid });
      return t;
    } catch (err) {
      // Nothing was changed yet: take the half-made journal away again.
      await fh?.close().catch(() => {});
      await removeJournal(root).catch(() => {});
      throw ioError(`unable to start the journal ${file}`, err);
    }
  }

  async note(r: TxnRecord): Promise<void> {
    await this.noteAll([r]);
  }

  /**
   * Records several changes with one write and one sync. A record may name a
   * change that is then never made: every undo checks before it acts.
   */
  async noteAll(rs: readonly TxnRecord[]): Promise<void> {
    if (rs.length === 0) return;
    const file = journalPath(this.root);
    try {
      await fsx.appendSync(this.fh, file, rs.map((r) => JSON.stringify(r) + '\n').join(''), rs.some((r) => r.op === 'commit') ? 'commit' : 'append');
    } catch (err) {
      throw ioError(`unable to write the journal ${file}`, err);
    }
  }

  /** Records a file's present bytes (in a backup beside the journal) before it is replaced. */
  async noteFile(file: string): Promise<void> {
    let data: Buffer | undefined;
    let st;
    try {
      st = await lstat(file);
      if (!st.isFile()) throw new DjbError('E_CONFLICT', `${file} is not a regular file; not replacing it`, { hint: 'a symlink or other object there is not djbpkg\'s to write through' });
      data = await readFile(file);
    } catch (err) {
      if (err instanceof DjbError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`unable to read ${file}`, err);
    }
    let backup: string | null = null;
    if (data !== undefined) {
      backup = path.join(txnDir(this.root), `backup-${++this.backups}`);
      try {
        await fsx.writeNew(backup, data, 0o600);
      } catch (err) {
        throw ioError(`unable to write the backup ${backup}`, err);
      }
    }
    await this.note({ op: 'file', path: file, backup, mode: st ? st.mode & 0o7777 : 0o644, uid: st?.uid ?? -1, gid: st?.gid ?? -1 });
  }

  /** Everything is done: after this, recovery finishes the clean-up instead of undoing. */
  async commit(): Promise<void> {
    await this.note({ op: 'commit' });
  }

  /** Undoes every recorded change, then drops the journal. */
  async rollback(): Promise<void> {
    await this.close();
    await recoverJournal(this.root);
  }

  /** After commit and clean-up: finishes whatever clean-up failed (idempotently), then drops the journal. */
  async end(): Promise<void> {
    await this.close();
    await recoverJournal(this.root);
  }

  private async close(): Promise<void> {
    await this.fh.close().catch(() => {});
  }
}

async function removeJournal(root: Root): Promise<void> {
  const dir = txnDir(root);
  try {
    await fsx.rmTree(dir);
  } catch (err) {
    throw ioError(`unable to remove the journal ${dir}`, err);
  }
}

/**
 * The records of the journal left in `root`, after checking that djbpkg can
 * have written it (see journal-trust.ts); undefined when there is none. A
 * journal or record that fails the checks throws, and nothing is done.
 */
export async function readJournal(root: Root): Promise<TxnRecord[] | undefined> {
  const dir = txnDir(root);
  const file = journalPath(root);
  try {
    await lstat(dir);
  } catch {
    return undefined;
  }
  await checkJournalDir(root, dir, file);
  const text = await readTrustedJournal(file);
  // A journal directory without a journal: killed between mkdir and create.
  if (text === undefined) return [];
  const out: TxnRecord[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as TxnRecord);
    } catch {
      // A record cut short by the kill: the change it names was never begun.
      break;
    }
  }
  await checkRecords(root, dir, file, out);
  return out;
}

/** A backup's bytes, never through a symlink; undefined when it cannot be read. */
async function readNoFollow(p: string): Promise<Buffer | undefined> {
  const fh = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (!fh) return undefined;
  try {
    return (await fh.stat()).isFile() ? await fh.readFile() : undefined;
  } catch {
    return undefined;
  } finally {
    await fh.close().catch(() => {});
  }
}

async function lstatOr(p: string) {
  try {
    return await lstat(p);
  } catch {
    return undefined;
  }
}

async function setLink(p: string, target: string): Promise<void> {
  const tmp = `${p}{new}`;
  await fsx.unlinkIfPresent(tmp);
  await fsx.symlink(target, tmp);
  await fsx.rename(tmp, p);
}

async function removeStaging(dir: string, label: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) if (n.startsWith(`.${label}.staging-`)) await fsx.rmTree(path.join(dir, n));
}

async function undoRecord(r: TxnRecord, root: Root): Promise<void> {
  switch (r.op) {
    case 'link': {
      await fsx.unlinkIfPresent(`${r.path}{new}`);
      const st = await lstatOr(r.path);
      if (r.before === null) {
        if (st?.isSymbolicLink()) await fsx.unlink(r.path);
      } else if (!st?.isSymbolicLink() || (await readlink(r.path)) !== r.before) {
        if (st && !st.isSymbolicLink()) break;
        await setLink(r.path, r.before);
      }
      break;
    }
    case 'moved':
      if (await lstatOr(r.aside)) {
        const st = await lstatOr(r.path);
        if (st?.isSymbolicLink()) await fsx.unlink(r.path);
        await fsx.rename(r.aside, r.path);
      }
      break;
    case 'tree': {
      const st = await stat(r.final).catch(() => undefined);
      if (st && st.ino === r.ino) {
        if (r.previous) await fsx.exchange(r.staged, r.final);
        else await fsx.rename(r.final, r.staged);
      }
      break;
    }
    case 'staging':
      await removeStaging(r.dir, r.label);
      break;
    case 'mkdir':
      await fsx.rmdir(r.path).catch(() => {});
      break;
    case 'file': {
      await fsx.unlinkIfPresent(`${r.path}{new}`);
      if (r.backup === null) {
        const st = await lstatOr(r.path);
        if (st?.isFile()) await fsx.unlink(r.path);
        break;
      }
      const want = await readNoFollow(r.backup);
      if (want === undefined) break;
      const have = await readFile(r.path).catch(() => undefined);
      if (have !== undefined && have.equals(want)) break;
      const tmp = `${r.path}{new}`;
      await fsx.writeNew(tmp, want, r.mode);
      if (r.uid >= 0) await fsx.chown(tmp, r.uid, r.gid).catch(() => {});
      await fsx.rename(tmp, r.path);
      break;
    }
    case 'unlinked':
      if (!(await lstatOr(r.path))) await fsx.symlink(r.target, r.path);
      break;
    case 'aside':
      if ((await lstatOr(r.aside)) && !(await lstatOr(r.path))) await fsx.rename(r.aside, r.path);
      break;
    case 'rmdir':
      if (!(await lstatOr(r.path))) await fsx.mkdir(r.path, 0o755);
      break;
    default:
      void root;
  }
}

/** After commit: what is left to clean up (staging, asides, {new} names). */
async function finishRecord(r: TxnRecord): Promise<void> {
  switch (r.op) {
    case 'staging':
      await removeStaging(r.dir, r.label);
      break;
    case 'link':
    case 'file':
      await fsx.unlinkIfPresent(`${r.path}{new}`);
      break;
    case 'moved':
    case 'aside':
      await fsx.rmTree(r.aside);
      break;
    default:
  }
}

export interface Recovery {
  kind: string;
  what: string;
  /** `rolled back` or `finished`. */
  outcome: 'rolled back' | 'finished';
}

/**
 * Recovers an interrupted transaction of `root`, if there is one: rolls it
 * back, or, when it had committed, finishes its clean-up. The caller holds
 * the root lock. Returns undefined when there was nothing to recover.
 */
export async function recoverJournal(root: Root): Promise<Recovery | undefined> {
  const records = await readJournal(root);
  if (records === undefined) return undefined;
  const begin = records.find((r) => r.op === 'begin') as Extract<TxnRecord, { op: 'begin' }> | undefined;
  const committed = records.some((r) => r.op === 'commit');
  try {
    if (committed) for (const r of records) await finishRecord(r);
    else for (const r of [...records].reverse()) await undoRecord(r, root);
  } catch (err) {
    throw ioError(`unable to recover the interrupted ${begin?.kind ?? 'transaction'} recorded in ${journalPath(root)}`, err);
  }
  await removeJournal(root);
  return { kind: begin?.kind ?? 'transaction', what: begin?.what ?? '(unknown)', outcome: committed ? 'finished' : 'rolled back' };
}
