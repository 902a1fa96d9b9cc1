import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import * as fsx from '../posix/fsx.js';
import { DjbError, describeCause, ioError } from './errors.js';
import type { Root } from './root.js';

/**
 * The file-system primitives every part of djbpkg shares: one home each.
 * Changes go through posix/fsx.ts, the seam where tests inject faults.
 */

/** True when something (any file type, a dangling symlink included) is at `p`: lstat succeeds. */
export async function lexists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** True when something is reached at `p`, symlinks followed: stat succeeds (a dangling symlink is false). */
export async function reaches(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** True when `p` is a regular file, or a symlink to one. */
export async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** True when `p` is a directory, or a symlink to one. */
export async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** The size of `p` when it is itself a regular file (a symlink is not followed), else 0. */
export async function regularFileSize(p: string): Promise<number> {
  try {
    const s = await lstat(p);
    return s.isFile() ? s.size : 0;
  } catch {
    return 0;
  }
}

/** Streams a file's bytes, in order, into `into` (a hash, or several at once). */
export async function hashFileInto(file: string, into: { update(chunk: Uint8Array): unknown }): Promise<void> {
  for await (const chunk of createReadStream(file)) into.update(chunk as Buffer);
}

/** The lowercase hex SHA-256 of a file's bytes. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await hashFileInto(file, h);
  return h.digest('hex');
}

export interface MkdirsOptions {
  /** The mode of `dir` itself; parents it makes get 0755. Default 0755. */
  mode?: number;
  /** Called before each directory is made (a journal notes it first). */
  before?: (dir: string) => Promise<void>;
  /** Called after each directory is made, parents first (to undo them later). */
  made?: (dir: string) => void;
  /** The error for a level that could not be made; default: E_IO `unable to create LEVEL: CAUSE`. */
  fail?: (dir: string, err: unknown) => Error;
}

/**
 * mkdir -p one level at a time, so that the error names the real cause
 * (EROFS, EACCES) rather than ENOENT, and each directory made can be
 * journaled and undone. Anything already at a level (even a dangling
 * symlink) is left alone; a directory made meanwhile by someone else is fine.
 */
export async function mkdirs(dir: string, opts: MkdirsOptions = {}): Promise<void> {
  if (await lexists(dir)) return;
  await mkdirs(path.dirname(dir), { ...opts, mode: 0o755 });
  try {
    await opts.before?.(dir);
    await fsx.mkdir(dir, opts.mode ?? 0o755);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw opts.fail ? opts.fail(dir, err) : ioError(`unable to create ${dir}`, err);
  }
  opts.made?.(dir);
}

/** What replaceFile journals before it writes, when given a journal. */
export interface FileJournal {
  noteFile(file: string): Promise<void>;
}

/** A file's bytes, mode and owner before an edit, to put back on undo. */
export interface FileBefore {
  path: string;
  before: { data: Buffer; mode: number; uid: number; gid: number } | undefined;
}

/**
 * Writes `file{new}` with the old file's mode and owner (or `mode`), then
 * renames it over `file`; returns what was there for restoreFile. Refuses
 * (E_CONFLICT, with `hint`) a symlink or another non-file at `file`.
 */
export async function replaceFile(file: string, data: string | Buffer, mode: number, journal?: FileJournal, hint = `replace ${file} by a regular file`): Promise<FileBefore> {
  let before: FileBefore['before'];
  try {
    const st = await lstat(file);
    if (!st.isFile()) {
      throw new DjbError('E_CONFLICT', `${file} is not a regular file (${st.isSymbolicLink() ? 'a symlink' : 'another kind of object'}); not writing through it`, { hint });
    }
    before = { data: await readFile(file), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (err) {
    if (err instanceof DjbError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`unable to read ${file}`, err);
  }
  await journal?.noteFile(file);
  await writeOver(file, data, before?.mode ?? mode, before);
  return { path: file, before };
}

/** Puts back what replaceFile replaced (or removes the file it created). */
export async function restoreFile(f: FileBefore): Promise<void> {
  if (f.before) await writeOver(f.path, f.before.data, f.before.mode, f.before);
  else await fsx.unlinkIfPresent(f.path).catch(() => {});
}

/**
 * Writes `file{new}` (created exclusively, never through a symlink; a stale
 * one is removed first, and removing a symlink never touches its target),
 * gives it `mode` and the owner, then renames it over `file`.
 */
async function writeOver(file: string, data: string | Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  const tmp = `${file}{new}`;
  try {
    await fsx.unlinkIfPresent(tmp);
    await fsx.writeNew(tmp, data, mode);
    if (owner) {
      const st = await lstat(tmp);
      if (st.uid !== owner.uid || st.gid !== owner.gid) await fsx.chown(tmp, owner.uid, owner.gid);
    }
    await fsx.rename(tmp, file);
  } catch (err) {
    await fsx.unlinkIfPresent(tmp).catch(() => {});
    throw ioError(`unable to replace ${file}`, err);
  }
}

/** The real path of `p`'s nearest existing ancestor (itself included), with the rest appended. */
async function realUpTo(p: string): Promise<string> {
  let head = p;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(await realpath(head), ...tail.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const up = path.dirname(head);
      if (up === head) return p;
      tail.push(path.basename(head));
      head = up;
    }
  }
}

/**
 * Refuses any of `dirs` (paths under ROOT) that resolves, through a symlink
 * somewhere on its way, to a place outside the root: a planted `ROOT/etc ->
 * /etc` must not make djbpkg write to the host.
 */
export async function assertInsideRoot(root: Root, dirs: readonly string[]): Promise<void> {
  if (root.isSystemRoot) return;
  let base: string;
  try {
    base = await realpath(root.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new DjbError('E_IO', `unable to resolve ${root.dir}: ${describeCause(err)}`, { cause: err });
  }
  for (const d of dirs) {
    const real = await realUpTo(d).catch(() => d);
    const rel = path.relative(base, real);
    if (rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) {
      throw new DjbError('E_CONFLICT', `${d} leads outside the root ${root.dir} (to ${real}); refusing to write there`, {
        hint: `replace the symlink on the way to ${d} by a directory`,
      });
    }
  }
}
