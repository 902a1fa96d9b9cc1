import { describe, expect, it } from 'vitest';
import { ProcTitle } from '../../src/supervision/proctitle.js';

/** Byte-at-a-time model of 0.76's buffer, to check the chunked implementation against. */
function model(len: number, input: Uint8Array): string {
  const buf = Buffer.alloc(len, '.');
  for (const b of input) {
    if (b === 0) continue;
    buf.copyWithin(3, 4, len);
    buf[len - 1] = b;
  }
  return buf.toString('latin1');
}

describe('readproctitle buffer', () => {
  it('matches the observed 10-byte example', () => {
    const t = new ProcTitle(['readproctitle', 'service', 'errors:'], 10);
    t.feed(Buffer.from('abcdefghijklmnop\0Q', 'latin1'));
    expect(t.text()).toBe('readproctitle service errors: ...klmnopQ');
  });

  it('agrees with the byte-at-a-time rule for chunks of every size', () => {
    const input = Buffer.from(Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? 0 : 33 + (i % 90))));
    for (const len of [5, 10, 50]) {
      for (const step of [1, 2, 6, 7, 8, 47, 300]) {
        const t = new ProcTitle(['x'], len);
        for (let i = 0; i < input.length; i += step) t.feed(input.subarray(i, i + step));
        expect(t.text()).toBe(`x ${model(len, input)}`);
      }
    }
  });
});
