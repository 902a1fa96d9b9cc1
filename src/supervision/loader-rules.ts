import { RLIMIT } from '../posix/index.js';

/**
 * What envdir and softlimit make of their input, shared by the programs
 * (src/programs/) and supervise's fast path (fastpath.ts), which must agree
 * with them byte for byte.
 */

/**
 * The edit one file makes: no bytes (or gone) removes the variable; else the
 * first line, trailing spaces and tabs removed, NULs turned into newlines.
 */
export function envdirValue(contents: Buffer | undefined): string | undefined {
  if (contents === undefined || contents.length === 0) return undefined;
  let end = contents.indexOf(0x0a);
  if (end < 0) end = contents.length;
  while (end > 0 && (contents[end - 1] === 0x20 || contents[end - 1] === 0x09)) end--;
  const line = Buffer.from(contents.subarray(0, end));
  for (let i = 0; i < line.length; i++) if (line[i] === 0) line[i] = 0x0a;
  return line.toString();
}

/** Which resources each option sets (`-m` sets four at once). */
export const RESOURCES: Record<string, number[]> = {
  a: [RLIMIT.AS],
  c: [RLIMIT.CORE],
  d: [RLIMIT.DATA],
  f: [RLIMIT.FSIZE],
  l: [RLIMIT.MEMLOCK],
  m: [RLIMIT.DATA, RLIMIT.STACK, RLIMIT.MEMLOCK, RLIMIT.AS],
  o: [RLIMIT.NOFILE],
  p: [RLIMIT.NPROC],
  r: [RLIMIT.RSS],
  s: [RLIMIT.STACK],
  t: [RLIMIT.CPU],
};

const ULONG = 1n << 64n;

/**
 * The value 0.76 reads with scan_ulong: leading decimal digits (none = 0),
 * wrapping at 2^64; undefined when anything follows the digits.
 */
export function parseLimit(arg: string): bigint | undefined {
  let u = 0n;
  let i = 0;
  for (; i < arg.length && arg[i]! >= '0' && arg[i]! <= '9'; i++) u = (u * 10n + BigInt(arg.charCodeAt(i) - 48)) % ULONG;
  return i === arg.length ? u : undefined;
}
