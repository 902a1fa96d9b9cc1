import semver from 'semver';
import { DjbError } from '../core/errors.js';

/** A recipe's version key (`0.76`) with the semver it is compared as (`0.76.0`). */
export interface VersionKey {
  key: string;
  semver: string;
}

/** The spec `NAME[@RANGE]` split; the range is undefined when absent. */
export function splitSpec(spec: string): { name: string; range: string | undefined } {
  const at = spec.indexOf('@');
  if (at < 0) return { name: spec, range: undefined };
  return { name: spec.slice(0, at), range: spec.slice(at + 1) };
}

/**
 * The semver a version key is compared as. djb numbers versions like
 * decimals (`1.05`); leading zeros are dropped first, since semver refuses
 * them, so `1.05` compares as `1.5.0`.
 */
export function semverOf(key: string): string | undefined {
  const v = semver.coerce(key.replace(/(^|\.)0+(\d)/g, '$1$2'), { includePrerelease: true });
  return v ? v.version : undefined;
}

/** Version keys ordered newest first; keys that do not coerce are dropped. */
export function orderVersions(keys: string[]): VersionKey[] {
  const out: VersionKey[] = [];
  for (const key of keys) {
    const v = semverOf(key);
    if (v) out.push({ key, semver: v });
  }
  return out.sort((a, b) => semver.rcompare(a.semver, b.semver));
}

/**
 * The newest version key matching RANGE (any when undefined). An exact key
 * match wins before range matching, so `@0.76` always means that recipe entry.
 */
export function chooseVersion(name: string, keys: string[], range: string | undefined): string {
  const ordered = orderVersions(keys);
  const known = ordered.map((v) => v.key).join(', ') || '(none)';
  if (range === undefined) {
    const newest = ordered[0];
    if (!newest) throw new DjbError('E_NO_VERSION', `${name}: the recipe has no usable version`);
    return newest.key;
  }
  if (keys.includes(range)) return range;
  const valid = range.trim() === '' ? null : semver.validRange(range);
  if (valid === null) {
    throw new DjbError('E_USAGE', `${name}@${range}: invalid version range "${range}"`, {
      hint: `use a version or a semver range, e.g. ${name}@${ordered[0]?.key ?? '1.0'} or ${name}@^${ordered[0]?.key ?? '1.0'}`,
    });
  }
  const hit = ordered.find((v) => semver.satisfies(v.semver, valid));
  if (!hit) {
    throw new DjbError('E_NO_VERSION', `${name}@${range}: no version matches (known: ${known})`);
  }
  return hit.key;
}
