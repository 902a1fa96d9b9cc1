import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import { DjbError, ioError } from '../core/errors.js';

/** What a safe archive holds, learned without writing anything. */
export interface ArchiveScan {
  /** `CATEGORY/NAME-VERSION`, the one top directory every member lives under. */
  top: string;
  /** Member paths (normalised, no trailing slash), in archive order. */
  members: string[];
  /** Contents of `TOP/package/commands` split into names, if the archive has it. */
  commands: string[] | undefined;
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const ALLOWED_TYPES = new Set([...FILE_TYPES, 'Directory', 'SymbolicLink', 'Link']);

interface Member {
  path: string;
  type: string;
  linkpath: string | undefined;
}

function refuse(archive: string, why: string): DjbError {
  return new DjbError('E_ARCHIVE', `refusing to unpack ${path.basename(archive)}: ${why}`, {
    hint: 'the distfile is not a plain source archive; nothing was extracted',
  });
}

/** `a/./b//c/` -> `a/b/c`; keeps `..` and a leading `/` so that they can be refused. */
function normalise(name: string): string {
  const abs = name.startsWith('/');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return (abs ? '/' : '') + parts.join('/');
}

/** Resolves `target` lexically from directory `from` (both archive-relative); undefined if it climbs above the archive root. */
function resolveLexically(from: string, target: string): string[] | undefined {
  const out = from === '' ? [] : from.split('/');
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out;
}

function under(p: string, top: string): boolean {
  return p === top || p.startsWith(top + '/');
}

/**
 * Checks every member against the rules below before a single byte is written.
 * Refused: absolute names, `..` components, members outside `top`, device nodes,
 * FIFOs and other special types, symlinks whose target is absolute, leaves `top`
 * or goes through another symlink, hard links to anything but an earlier regular
 * file, and any member written through a symlink.
 */
function checkMembers(archive: string, top: string, members: Member[]): void {
  const topParts = top.split('/');
  const links = new Set(members.filter((m) => m.type === 'SymbolicLink').map((m) => m.path));
  const seenFiles = new Set<string>();
  for (const m of members) {
    if (m.path.startsWith('/')) throw refuse(archive, `member ${m.path} has an absolute name`);
    if (m.path.split('/').includes('..')) throw refuse(archive, `member ${m.path} has a .. component`);
    const isAncestorOfTop = topParts.slice(0, -1).some((_, i) => topParts.slice(0, i + 1).join('/') === m.path);
    if (!under(m.path, top) && !(isAncestorOfTop && m.type === 'Directory')) {
      throw refuse(archive, `member ${m.path} is not under ${top}/`);
    }
    if (!ALLOWED_TYPES.has(m.type)) throw refuse(archive, `member ${m.path} is a ${m.type}`);
    const parts = m.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (links.has(prefix)) throw refuse(archive, `member ${m.path} would be written through symlink ${prefix}`);
    }
    if (m.type === 'SymbolicLink') {
      const target = m.linkpath ?? '';
      if (target === '' || target.startsWith('/')) throw refuse(archive, `symlink ${m.path} points to ${target || 'nothing'}`);
      const dir = parts.slice(0, -1).join('/');
      const steps = target.split('/');
      const walked = dir === '' ? [] : dir.split('/');
      for (let i = 0; i < steps.length; i++) {
        const resolved = resolveLexically(walked.join('/'), steps[i]!);
        if (resolved === undefined || !under(resolved.join('/'), top)) {
          throw refuse(archive, `symlink ${m.path} points outside ${top}/ (${target})`);
        }
        walked.splice(0, walked.length, ...resolved);
        if (i < steps.length - 1 && links.has(walked.join('/'))) {
          throw refuse(archive, `symlink ${m.path} points through symlink ${walked.join('/')}`);
        }
      }
    }
    if (m.type === 'Link') {
      const target = normalise(m.linkpath ?? '');
      if (!seenFiles.has(target)) throw refuse(archive, `hard link ${m.path} points to ${m.linkpath ?? 'nothing'}, not an earlier file of ${top}/`);
    }
    if (FILE_TYPES.has(m.type)) seenFiles.add(m.path);
  }
}

/**
 * Reads the archive once, without writing, and checks that it is safe to unpack
 * and that its top directory is `top` (`CATEGORY/NAME-VERSION`).
 */
export async function scanArchive(archive: string, top: string): Promise<ArchiveScan> {
  const members: Member[] = [];
  const commandsChunks: Buffer[] = [];
  const commandsPath = `${top}/package/commands`;
  let hasCommands = false;
  try {
    await tar.t({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        const p = normalise(entry.path);
        members.push({ path: p, type: entry.type, linkpath: entry.linkpath });
        if (p === commandsPath && FILE_TYPES.has(entry.type)) {
          hasCommands = true;
          entry.on('data', (b: Buffer) => commandsChunks.push(b));
        }
      },
    });
  } catch (err) {
    if (err instanceof DjbError) throw err;
    throw new DjbError('E_ARCHIVE', `unable to read archive ${archive}: ${(err as Error).message}`, { cause: err });
  }
  if (members.length === 0) throw refuse(archive, 'it is empty');
  checkMembers(archive, top, members);
  if (!members.some((m) => m.path === top || m.path.startsWith(top + '/'))) {
    throw refuse(archive, `its top directory is not ${top}`);
  }
  const commands = hasCommands ? parseCommands(Buffer.concat(commandsChunks).toString('utf8')) : undefined;
  return { top, members: members.map((m) => m.path), commands };
}

/** `package/commands`: one command name a line; blank lines and `#` comments ignored. */
export function parseCommands(text: string): string[] {
  const names = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const n of names) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(n)) {
      throw new DjbError('E_ARCHIVE', `package/commands names an unusable command: ${JSON.stringify(n)}`);
    }
  }
  return names;
}

export interface Staged {
  /** The staging directory (remove it to undo). */
  stagingDir: string;
  /** The unpacked tree: `stagingDir/CATEGORY/NAME-VERSION`. */
  tree: string;
}

/**
 * Unpacks a scanned archive into a fresh staging directory made inside
 * `besideDir` (so the final rename stays on one filesystem). Modes are kept as
 * `tar -xpf` keeps them (no umask); owners are not. Every member is checked
 * again as it is written; the staging directory is removed on any failure.
 */
export async function extractArchive(archive: string, scan: ArchiveScan, besideDir: string, label: string): Promise<Staged> {
  let stagingDir: string;
  try {
    stagingDir = await mkdtemp(path.join(besideDir, `.${label}.staging-`));
  } catch (err) {
    throw ioError(`unable to create staging directory in ${besideDir}`, err);
  }
  const allowed = new Set(scan.members);
  try {
    // Synchronously: an asynchronous unpack that fails (ENOSPC) still has
    // writes in flight when its promise rejects, so removing the staging
    // directory then raced them and failed with ENOTEMPTY, hiding the real
    // cause and leaving the staging directory behind. Distfiles are small.
    tar.x({
      sync: true,
      file: archive,
      cwd: stagingDir,
      strict: true,
      preserveOwner: false,
      chmod: true,
      processUmask: 0,
      filter: (p, entry) => {
        const name = normalise(p);
        if (!allowed.has(name) || ('type' in entry && !ALLOWED_TYPES.has(entry.type as string))) {
          throw refuse(archive, `member ${p} changed between scan and unpack`);
        }
        return true;
      },
    });
  } catch (err) {
    // The cause is what the admin needs; a failed clean-up is left to the journal's rollback.
    await rm(stagingDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }).catch(() => {});
    if (err instanceof DjbError) throw err;
    // A full disk or an I/O error while writing is the disk's condition, not the archive's.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) throw ioError(`unable to unpack ${archive} into ${stagingDir}`, err);
    throw new DjbError('E_ARCHIVE', `unable to unpack ${archive}: ${(err as Error).message}`, { cause: err });
  }
  return { stagingDir, tree: path.join(stagingDir, scan.top) };
}
