import { lexists } from '../core/fs.js';
import { DjbError, describeCause } from '../core/errors.js';
import * as fsx from '../posix/fsx.js';
import type { DigestCheck } from './digest.js';

/**
 * A distfile in the cache (or a --distfiles directory) that fails
 * verification may be the admin's only copy, placed there by hand; and the
 * recipe, not the file, may be what is wrong. So it is never deleted: it is
 * renamed to NAME.rejected (NAME.rejected.1, .2, ... when that exists), where
 * the admin can look at it and move it back.
 */
export async function moveAside(p: string): Promise<string> {
  for (let n = 0; n < 1000; n++) {
    const to = n === 0 ? `${p}.rejected` : `${p}.rejected.${n}`;
    if (await lexists(to)) continue;
    try {
      await fsx.renameNoReplace(p, to);
      return to;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new DjbError('E_IO', `unable to move ${p} aside to ${to}: ${describeCause(err)}`, { cause: err });
    }
  }
  throw new DjbError('E_IO', `unable to move ${p} aside: ${p}.rejected through .999 all exist`, { hint: 'remove the old .rejected copies you do not need' });
}

/** `MD5 recipe X, file Y; ...` for every value that differs. */
export function differing(checks: readonly DigestCheck[]): string {
  return checks
    .filter((c) => !c.ok)
    .map((c) => `${c.label}: recipe ${String(c.expected)}, file ${String(c.actual)}`)
    .join('; ');
}

/**
 * True when the recipe pins size and SHA-256, both match, and only MD5
 * differs: the bytes are almost surely the right ones and the recipe's MD5
 * is the likelier mistake.
 */
export function recipeMd5Suspect(checks: readonly DigestCheck[]): boolean {
  const by = (w: DigestCheck['what']) => checks.find((c) => c.what === w);
  const size = by('size');
  const sha = by('sha256');
  const md5 = by('md5');
  return !!size && !!sha && !!md5 && size.expected !== undefined && sha.expected !== undefined && size.ok && sha.ok && !md5.ok;
}
