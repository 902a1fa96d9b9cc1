import { DjbError, describeCause } from '../core/errors.js';
import { hashFile } from './digest.js';
import { recipeMd5Suspect } from './reject.js';
import type { DigestCheck, Digests } from './digest.js';
export type { DigestCheck } from './digest.js';

/** What a recipe pins about its distfile: all that verifying one needs. */
export interface DistfilePins {
  name: string;
  version: string;
  distfile: string;
  md5: string;
  sha256?: string | undefined;
  size?: number | undefined;
}

/** A distfile compared with its recipe. `ok` only when every pinned value matches. */
export interface VerifyReport {
  path: string;
  name: string;
  version: string;
  distfile: string;
  ok: boolean;
  checks: DigestCheck[];
  actual: Digests;
  /** The recipe pins no SHA-256: only MD5 vouches for the bytes. */
  md5Only: boolean;
}

/** Compares what a file hashed to with the recipe. MD5 is always pinned. */
export function checkDigests(actual: Digests, recipe: Pick<DistfilePins, 'md5' | 'sha256' | 'size'>): DigestCheck[] {
  return [
    { what: 'size', label: 'size', expected: recipe.size, actual: actual.size, ok: recipe.size === undefined || recipe.size === actual.size },
    { what: 'md5', label: 'MD5', expected: recipe.md5, actual: actual.md5, ok: recipe.md5 === actual.md5 },
    {
      what: 'sha256',
      label: 'SHA-256',
      expected: recipe.sha256,
      actual: actual.sha256,
      ok: recipe.sha256 === undefined || recipe.sha256 === actual.sha256,
    },
  ];
}

/** Hashes `path` and compares it with the recipe. */
export async function verifyFile(path: string, recipe: DistfilePins): Promise<VerifyReport> {
  let actual: Digests;
  try {
    actual = await hashFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DjbError('E_IO', `unable to read ${path}: ${describeCause(err)}`, {
      cause: err,
      temporary: code !== 'ENOENT' && code !== 'EISDIR',
    });
  }
  const checks = checkDigests(actual, recipe);
  return {
    path,
    name: recipe.name,
    version: recipe.version,
    distfile: recipe.distfile,
    ok: checks.every((c) => c.ok),
    checks,
    actual,
    md5Only: recipe.sha256 === undefined,
  };
}

/**
 * The error for bytes that do not match: names every differing value with
 * both sides. E_SIZE when the size differs, else E_CHECKSUM; both exit 100.
 */
export function mismatchError(what: string, checks: DigestCheck[], recipeFile: string, deleted: boolean): DjbError {
  const bad = checks.filter((c) => !c.ok);
  const detail = bad.map((c) => `${c.label} expected ${String(c.expected)}, got ${String(c.actual)}`).join('; ');
  const code = bad.some((c) => c.what === 'size') ? 'E_SIZE' : 'E_CHECKSUM';
  if (recipeMd5Suspect(checks)) {
    return new DjbError(code, `${what} does not match the recipe's MD5 (${detail}), though its size and SHA-256 do${deleted ? '; the download was discarded' : ''}`, {
      hint: `the recipe's MD5 in ${recipeFile} may be wrong: check it against upstream and correct the recipe`,
    });
  }
  return new DjbError(
    code,
    `${what} has been altered or corrupted: ${detail}${deleted ? '; the file was deleted' : ''}`,
    { hint: `the expected values come from ${recipeFile}` },
  );
}

/** The warning every command gives when a recipe pins no SHA-256. */
export function md5OnlyWarning(name: string, version: string): string {
  return `the recipe for ${name}-${version} pins no SHA-256; MD5 alone is weak against deliberate tampering`;
}
