/**
 * TAI64 / TAI64N labels as daemontools 0.76 writes them: seconds are
 * 2^62 + 10 + unix seconds (no leap-second table), nanoseconds as the C
 * clock gives them (microseconds * 1000 + 500).
 */
export const TAI64_OFFSET = (1n << 62n) + 10n;
export const TAI64N_BYTES = 12;
/** `@` + 24 lowercase hex digits. */
export const TAI64N_TEXT_LENGTH = 25;

export interface Tai64n {
  /** TAI64 label (not unix seconds). */
  sec: bigint;
  nano: number;
}

/** Now, as C daemontools reads the clock (gettimeofday). */
export function tai64nNow(nowMs: number = Date.now(), micro?: number): Tai64n {
  const unixSec = Math.floor(nowMs / 1000);
  const usec = micro ?? (nowMs - unixSec * 1000) * 1000;
  return { sec: TAI64_OFFSET + BigInt(unixSec), nano: Math.floor(usec) * 1000 + 500 };
}

/** Precise now from hrtime-anchored wall clock (microsecond resolution). */
export function tai64nPrecise(): Tai64n {
  const us = BigInt(Math.round(performance.timeOrigin * 1000)) + BigInt(Math.round(performance.now() * 1000));
  const sec = us / 1_000_000n;
  const usec = Number(us % 1_000_000n);
  return { sec: TAI64_OFFSET + sec, nano: usec * 1000 + 500 };
}

export function tai64nFromUnix(unixSec: number, nano = 0): Tai64n {
  return { sec: TAI64_OFFSET + BigInt(unixSec), nano };
}

export function tai64nToUnix(t: Tai64n): number {
  return Number(t.sec - TAI64_OFFSET);
}

/** 12 bytes big-endian into `buf` at `offset`. */
export function packTai64n(t: Tai64n, buf: Uint8Array = new Uint8Array(TAI64N_BYTES), offset = 0): Uint8Array {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  v.setBigUint64(offset, t.sec, false);
  v.setUint32(offset + 8, t.nano, false);
  return buf;
}

export function unpackTai64n(buf: Uint8Array, offset = 0): Tai64n {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { sec: v.getBigUint64(offset, false), nano: v.getUint32(offset + 8, false) };
}

/** `@` + 16 hex seconds + 8 hex nanoseconds. */
export function formatTai64n(t: Tai64n): string {
  return '@' + t.sec.toString(16).padStart(16, '0') + t.nano.toString(16).padStart(8, '0');
}

/** Parses `@` + 24 lowercase hex digits; undefined if the text is not exactly that. */
export function parseTai64n(text: string): Tai64n | undefined {
  if (!/^@[0-9a-f]{24}$/.test(text)) return undefined;
  return { sec: BigInt('0x' + text.slice(1, 17)), nano: parseInt(text.slice(17), 16) };
}
