import { packTai64n, TAI64N_BYTES, unpackTai64n, type Tai64n } from '../djb/tai64n.js';

/**
 * `supervise/status`, 18 bytes, as daemontools 0.76 writes it:
 * TAI64N of the last pid change (big-endian), the run child's pid
 * (little-endian uint32, 0 = down), the paused flag (only ever 1 while a
 * child exists) and the wish byte ('u', 'd' or 0 after `o`).
 */
export const STATUS_BYTES = 18;
export const STATUS_PID_OFFSET = TAI64N_BYTES;
export const STATUS_PID_BYTES = 4;
export const STATUS_PAUSED_OFFSET = STATUS_PID_OFFSET + STATUS_PID_BYTES;
export const STATUS_WANT_OFFSET = STATUS_PAUSED_OFFSET + 1;

/** byte 17: what supervise wants of the service. */
export type Want = 'up' | 'down' | 'none';

const WANT_BYTE: Record<Want, number> = { up: 0x75, down: 0x64, none: 0 };

export interface Status {
  /** Time of the last pid change. */
  when: Tai64n;
  /** 0 when the service is down. */
  pid: number;
  paused: boolean;
  want: Want;
}

export function packStatus(s: Status): Uint8Array {
  const buf = new Uint8Array(STATUS_BYTES);
  packTai64n(s.when, buf, 0);
  new DataView(buf.buffer).setUint32(STATUS_PID_OFFSET, s.pid >>> 0, true);
  buf[STATUS_PAUSED_OFFSET] = s.paused && s.pid !== 0 ? 1 : 0;
  buf[STATUS_WANT_OFFSET] = WANT_BYTE[s.want];
  return buf;
}

/**
 * Decodes the first 18 bytes (extra bytes are ignored, as C svstat does);
 * undefined when there are fewer. A wish byte other than 'u'/'d' reads as
 * 'none', a non-zero paused byte as paused, as svstat reads them.
 */
export function unpackStatus(buf: Uint8Array): Status | undefined {
  if (buf.length < STATUS_BYTES) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const w = buf[STATUS_WANT_OFFSET];
  return {
    when: unpackTai64n(buf, 0),
    pid: view.getUint32(STATUS_PID_OFFSET, true),
    paused: buf[STATUS_PAUSED_OFFSET] !== 0,
    want: w === WANT_BYTE.up ? 'up' : w === WANT_BYTE.down ? 'down' : 'none',
  };
}
