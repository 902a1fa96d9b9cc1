import { constants } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { hashFileInto, isFile, mkdirs, regularFileSize } from '../core/fs.js';
import { checkpoint } from '../posix/fsx.js';
import path from 'node:path';
import { DjbError, describeCause } from '../core/errors.js';
import type { Output } from '../core/io.js';
import { inside, shellQuote } from '../core/root.js';
import type { ResolvedRecipe } from '../recipe/index.js';
import { DigestStream } from './digest.js';
import type { Digests } from './digest.js';
import { SourceFailure, httpGet, limitsFromEnv } from './http.js';
import type { HttpLimits } from './http.js';
import { startProgress } from './progress.js';
import { differing, moveAside, recipeMd5Suspect } from './reject.js';
import { checkDigests, mismatchError, verifyFile } from './verify.js';
import type { DistfilePins, VerifyReport } from './verify.js';

export interface FetchOptions {
  /** The download cache directory (absolute or relative to the cwd). */
  distfiles: string;
  /** Base URLs tried, in order, before the recipe's own URLs. */
  mirrors: string[];
  /** Never open a connection: the cache must hold a good copy. */
  offline: boolean;
  /** Proxy variables and DJBPKG_FETCH_TIMEOUT_MS / DJBPKG_FETCH_IDLE_MS come from here. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where to draw the progress bar; drawn only when it is a terminal. */
  progress?: Output;
  /** One line per event worth telling (a failed source, a resume, a bad cached copy). */
  log?: (line: string) => void;
  /** Milliseconds clock for the progress rate; defaults to Date.now. */
  now?: () => number;
}

export interface FetchResult {
  name: string;
  version: string;
  distfile: string;
  path: string;
  size: number;
  md5: string;
  sha256: string;
  /** `cache`, or the URL (as listed in the sources) the bytes came from. */
  source: string;
}

/** The URLs tried for a distfile, in order: mirrors (`URL/<distfile>`) then the recipe's. */
export function sourcesFor(recipe: Pick<ResolvedRecipe, 'distfile' | 'urls'>, mirrors: readonly string[]): string[] {
  const fromMirrors = mirrors.map((m) => `${m.replace(/\/+$/, '')}/${encodeURIComponent(recipe.distfile)}`);
  return [...new Set([...fromMirrors, ...recipe.urls])];
}

/** Where the cache keeps a distfile: DISTFILES/DISTFILE (never outside DISTFILES). */
export function cachePath(distfiles: string, distfile: string): string {
  return inside(path.resolve(distfiles), distfile);
}

/** The download cache's copy of a distfile, as fetchDistfile finds it before any download. */
export type CachedCopy =
  | { state: 'absent'; path: string }
  | { state: 'good' | 'bad'; path: string; report: VerifyReport };

/**
 * Looks at the cache entry for the recipe's distfile and changes nothing: a
 * symlink or a non-file there is refused (E_CONFLICT), a file is verified
 * against the recipe (size, MD5, SHA-256). fetchDistfile and the install's
 * --dry-run plan both decide by this, so the plan says what the fetch does.
 */
export async function examineCache(recipe: DistfilePins, distfiles: string): Promise<CachedCopy> {
  const dest = cachePath(distfiles, recipe.distfile);
  await refuseSymlink(dest);
  if (!(await isFile(dest))) return { state: 'absent', path: dest };
  const report = await verifyFile(dest, recipe);
  return { state: report.ok ? 'good' : 'bad', path: dest, report };
}

/**
 * Puts the recipe's distfile into the cache, verified, and says where it came
 * from. Order: a cached copy (re-verified; a bad one is moved aside to NAME.rejected, never deleted), then each
 * source in turn. Bytes stream into `<distfile>.part`, hashed on the way, and
 * are renamed to `<distfile>` only after size, MD5 and SHA-256 all match.
 *
 * Errors: E_OFFLINE (nothing good cached, --offline), E_CHECKSUM / E_SIZE (a
 * source served other bytes and no source served the right ones), E_NETWORK
 * (every source failed), E_IO (the cache cannot be written).
 */
export async function fetchDistfile(recipe: ResolvedRecipe, opts: FetchOptions): Promise<FetchResult> {
  const dir = path.resolve(opts.distfiles);
  const dest = cachePath(dir, recipe.distfile);
  const part = `${dest}.part`;
  const log = opts.log ?? (() => {});
  const result = (d: Digests, source: string): FetchResult => ({
    name: recipe.name,
    version: recipe.version,
    distfile: recipe.distfile,
    path: dest,
    size: d.size,
    md5: d.md5,
    sha256: d.sha256,
    source,
  });

  // The cache entry and the .part file are ours: a symlink there was planted,
  // and following it would overwrite (or create) whatever it names.
  await refuseSymlink(dest);
  await refuseSymlink(part);
  let rejected: { to: string; why: string; suspect: boolean } | undefined;
  const cached = await examineCache(recipe, dir);
  if (cached.state !== 'absent') {
    const report = cached.report;
    if (report.ok) return result(report.actual, 'cache');
    // Never deleted: it may be the admin's only copy, and the recipe may be what is wrong.
    rejected = { to: await moveAside(dest), why: differing(report.checks), suspect: recipeMd5Suspect(report.checks) };
    const note = rejected.suspect ? `; its size and SHA-256 match, so the recipe's MD5 may be wrong (${recipe.recipeFile})` : '';
    if (!opts.offline) log(`cached ${dest} does not match the recipe (${rejected.why})${note}; moved it aside to ${rejected.to}; fetching again`);
  }
  if (opts.offline) {
    if (rejected !== undefined) {
      throw new DjbError('E_OFFLINE', `the cached ${dest} does not match the recipe (${rejected.why}); moved it aside to ${rejected.to}; --offline forbids fetching it again`, {
        hint: rejected.suspect
          ? `its size and SHA-256 match the recipe, only MD5 differs: the recipe's MD5 in ${recipe.recipeFile} may be wrong; check it against upstream, correct the recipe, then put the file back: mv ${shellQuote(rejected.to)} ${shellQuote(dest)}`
          : `run the same command without --offline to download it again, or copy a good ${recipe.distfile} to ${shellQuote(dest)}`,
      });
    }
    throw new DjbError('E_OFFLINE', `${recipe.distfile} is not in the download cache ${dir} and --offline forbids fetching it`, {
      hint: `fetch it once without --offline, or copy it to ${shellQuote(dest)}`,
    });
  }
  await mkdirs(dir, { fail: (_level, err) => new DjbError('E_IO', `unable to create ${dir}: ${describeCause(err)}`, { cause: err }) });

  const sources = sourcesFor(recipe, opts.mirrors);
  const limits = limitsFromEnv(opts.env);
  let mismatch: DjbError | undefined;
  for (const url of sources) {
    try {
      const digests = await fromSource(url, part, recipe, opts, limits);
      try {
        await rename(part, dest);
      } catch (err) {
        throw new DjbError('E_IO', `unable to rename ${part} to ${dest}: ${describeCause(err)}`, { cause: err });
      }
      return result(digests, url);
    } catch (err) {
      if (err instanceof SourceFailure) {
        log(`${url}: ${err.message}`);
        continue;
      }
      if (err instanceof DjbError && (err.code === 'E_CHECKSUM' || err.code === 'E_SIZE')) {
        mismatch = err;
        log(`${url}: ${err.code === 'E_SIZE' ? 'wrong size' : 'wrong checksum'}`);
        continue;
      }
      throw err;
    }
  }
  if (mismatch) throw mismatch;
  throw new DjbError('E_NETWORK', `unable to fetch ${recipe.distfile}: all ${sources.length} source${sources.length === 1 ? '' : 's'} failed`, {
    hint: 'check the network and proxy settings, or name a working --mirror URL',
  });
}

/**
 * One source: resume `part` when it holds bytes and the server serves ranges,
 * otherwise start over. A mismatch after a resume is retried once from byte 0,
 * since the earlier bytes may be the bad ones.
 */
async function fromSource(url: string, part: string, recipe: ResolvedRecipe, opts: FetchOptions, limits: HttpLimits): Promise<Digests> {
  let have = await regularFileSize(part);
  if (have > 0 && recipe.size !== undefined && have >= recipe.size) {
    await removeFile(part);
    have = 0;
  }
  const first = await attempt(url, part, recipe, opts, limits, have);
  if (first.ok || !first.resumed) return finish(first, url, part, recipe);
  opts.log?.(`${url}: resumed download did not verify; starting over`);
  await removeFile(part);
  return finish(await attempt(url, part, recipe, opts, limits, 0), url, part, recipe);
}

interface Attempt {
  digests: Digests;
  ok: boolean;
  resumed: boolean;
}

async function finish(a: Attempt, url: string, part: string, recipe: ResolvedRecipe): Promise<Digests> {
  if (a.ok) return a.digests;
  await removeFile(part);
  throw mismatchError(`${recipe.distfile} from ${url}`, checkDigests(a.digests, recipe), recipe.recipeFile, true);
}

async function attempt(
  url: string,
  part: string,
  recipe: ResolvedRecipe,
  opts: FetchOptions,
  limits: HttpLimits,
  have: number,
): Promise<Attempt> {
  const res = await httpGet(url, { env: opts.env, limits, rangeFrom: have });
  let resumed = false;
  if (res.status === 206 && have > 0 && res.rangeStart === have) {
    resumed = true;
  } else if (res.status === 416 && have > 0) {
    res.discard();
    await removeFile(part);
    return attempt(url, part, recipe, opts, limits, 0);
  } else if (res.status !== 200) {
    res.discard();
    throw new SourceFailure(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }
  const total = resumed ? (res.contentLength === undefined ? undefined : have + res.contentLength) : res.contentLength;
  if (recipe.size !== undefined && total !== undefined && total !== recipe.size) {
    res.discard();
    await removeFile(part);
    throw mismatchError(
      `${recipe.distfile} from ${url}`,
      [{ what: 'size', label: 'size', expected: recipe.size, actual: total, ok: false }],
      recipe.recipeFile,
      resumed,
    );
  }

  const digest = new DigestStream();
  if (resumed) {
    await hashFileInto(part, digest);
    opts.log?.(`${url}: resuming ${recipe.distfile} at byte ${have}`);
  }
  let fh;
  try {
    // A fresh .part is created exclusively and never through a symlink; a
    // resumed one is opened without following one.
    if (!resumed) await removeFile(part);
    fh = await open(
      part,
      resumed ? constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW : constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
    await fh.chmod(0o644);
  } catch (err) {
    res.discard();
    await fh?.close().catch(() => {});
    throw new DjbError('E_IO', `unable to open ${part}: ${describeCause(err)}`, { cause: err });
  }
  const progress = startProgress(opts.progress, recipe.distfile, recipe.size ?? total, opts.now ?? Date.now);
  progress.update(digest.size);
  try {
    for await (const chunk of res.chunks()) {
      checkpoint();
      digest.update(chunk);
      if (recipe.size !== undefined && digest.size > recipe.size) {
        res.discard();
        await fh.close();
        await removeFile(part);
        throw mismatchError(
          `${recipe.distfile} from ${url}`,
          [{ what: 'size', label: 'size', expected: recipe.size, actual: `more than ${recipe.size}`, ok: false }],
          recipe.recipeFile,
          true,
        );
      }
      try {
        await fh.write(chunk);
      } catch (err) {
        res.discard();
        throw new DjbError('E_IO', `unable to write ${part}: ${describeCause(err)}`, { cause: err });
      }
      progress.update(digest.size);
    }
  } catch (err) {
    progress.stop();
    await fh.close().catch(() => {});
    if (err instanceof SourceFailure) {
      const kept = res.rangesSupported && digest.size > 0;
      if (!kept) await removeFile(part);
      throw new SourceFailure(`${err.message}${kept ? ` (kept ${digest.size} bytes to resume)` : ''}`, { cause: err });
    }
    if (err instanceof DjbError && err.code === 'E_IO') await removeFile(part);
    throw err;
  }
  progress.stop();
  try {
    await fh.close();
  } catch (err) {
    throw new DjbError('E_IO', `unable to write ${part}: ${describeCause(err)}`, { cause: err });
  }
  const digests = digest.digest();
  return { digests, ok: checkDigests(digests, recipe).every((c) => c.ok), resumed };
}

async function refuseSymlink(p: string): Promise<void> {
  let st;
  try {
    st = await lstat(p);
  } catch {
    return;
  }
  if (st.isSymbolicLink() || !st.isFile()) {
    throw new DjbError('E_CONFLICT', `${p} is ${st.isSymbolicLink() ? 'a symlink' : 'not a regular file'}; not reading or writing through it`, {
      hint: `remove it (rm ${shellQuote(p)}); djbpkg puts only regular files in its download cache`,
    });
  }
}

async function removeFile(p: string): Promise<void> {
  try {
    await unlink(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new DjbError('E_IO', `unable to remove ${p}: ${describeCause(err)}`, { cause: err });
    }
  }
}
