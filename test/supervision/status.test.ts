import { describe, expect, it } from 'vitest';
import { packStatus, STATUS_BYTES, unpackStatus, type Status } from '../../src/supervision/status.js';

/** Dumps observed from C supervise 0.76: the 18-byte supervise/status (TAI64N stamp, pid, paused, want; see src/supervision/status.ts). */
const OBSERVED: { name: string; hex: string; status: Status }[] = [
  {
    name: 'up',
    hex: '400000006b04979224111dbc6d1b00000075',
    status: { when: { sec: 0x400000006b049792n, nano: 0x24111dbc }, pid: 7021, paused: false, want: 'up' },
  },
  {
    name: 'up, paused',
    hex: '400000006b04979224111dbc6d1b00000175',
    status: { when: { sec: 0x400000006b049792n, nano: 0x24111dbc }, pid: 7021, paused: true, want: 'up' },
  },
  {
    name: 'down after svc -d',
    hex: '400000006b04979e2867ba24000000000064',
    status: { when: { sec: 0x400000006b04979en, nano: 0x2867ba24 }, pid: 0, paused: false, want: 'down' },
  },
  {
    name: 'once after svc -o',
    hex: '400000006b04979f1db0e614791c00000000',
    status: { when: { sec: 0x400000006b04979fn, nano: 0x1db0e614 }, pid: 7289, paused: false, want: 'none' },
  },
];

describe('supervise/status codec', () => {
  for (const o of OBSERVED) {
    it(`packs and unpacks the observed "${o.name}" dump byte for byte`, () => {
      const packed = packStatus(o.status);
      expect(packed.length).toBe(STATUS_BYTES);
      expect(Buffer.from(packed).toString('hex')).toBe(o.hex);
      expect(unpackStatus(Buffer.from(o.hex, 'hex'))).toEqual(o.status);
    });
  }

  it('forces the paused byte to 0 when pid is 0', () => {
    const b = packStatus({ when: { sec: 0x4000000000000000n, nano: 0 }, pid: 0, paused: true, want: 'down' });
    expect(b[16]).toBe(0);
  });

  it('reads only the first 18 bytes and refuses fewer', () => {
    const hex = OBSERVED[0]!.hex;
    expect(unpackStatus(Buffer.from(hex + 'ffff', 'hex'))).toEqual(OBSERVED[0]!.status);
    expect(unpackStatus(Buffer.from(hex.slice(0, 34), 'hex'))).toBeUndefined();
  });
});
