import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatTai64n, parseTai64n, tai64nFromUnix, tai64nToUnix } from '../../src/djb/tai64n.js';
import { run } from '../support/run.js';
import { TAI64N, TAI64NLOCAL } from '../support/multilog.js';

const C_TAI64NLOCAL = '/usr/bin/tai64nlocal';
const C_TAI64N = '/usr/bin/tai64n';

const node = (bin: string, input: string | Buffer, env: Record<string, string> = {}) =>
  run(process.execPath, [bin], { input, env });

describe('tai64n', () => {
  it('labels every line with @ + 24 hex digits + space, rising, near now; a final partial line stays partial', async () => {
    const before = Date.now() / 1000;
    const lines = Array.from({ length: 2000 }, (_, i) => `l${i}`);
    const r = await node(TAI64N, lines.join('\n') + '\nno newline at end', {});
    const after = Date.now() / 1000;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout.split('\n');
    expect(out.length).toBe(lines.length + 1);
    let last = '';
    out.forEach((l, i) => {
      const label = parseTai64n(l.slice(0, 25));
      expect(label, l).toBeDefined();
      expect(l[25]).toBe(' ');
      expect(l.slice(26)).toBe(i < lines.length ? lines[i] : 'no newline at end');
      expect(l.slice(0, 25) >= last).toBe(true);
      last = l.slice(0, 25);
      const secs = tai64nToUnix(label!);
      expect(secs).toBeGreaterThanOrEqual(Math.floor(before) - 1);
      expect(secs).toBeLessThanOrEqual(Math.ceil(after) + 1);
      expect(label!.nano % 1000).toBe(500);
    });
  });

  it('copies empty input to empty output and ignores arguments', async () => {
    const r = await run(process.execPath, [TAI64N, 'whatever', '-x'], { input: '' });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});

describe('tai64nlocal', () => {
  it('converts a known label (TZ=UTC and TZ=Asia/Tokyo)', async () => {
    const input = '@400000003b9aca0a00000000 hello world\n';
    expect((await node(TAI64NLOCAL, input, { TZ: 'UTC' })).stdout).toBe('2001-09-09 01:46:40.000000000 hello world\n');
    expect((await node(TAI64NLOCAL, input, { TZ: 'Asia/Tokyo' })).stdout).toBe('2001-09-09 10:46:40.000000000 hello world\n');
  });

  it('keeps the byte after the label and the rest verbatim; other lines unchanged', async () => {
    const label = formatTai64n(tai64nFromUnix(0, 123456789));
    const input = `${label}\tx\nplain line\n  ${label} not at start\n${label}`;
    const r = await node(TAI64NLOCAL, input, { TZ: 'UTC' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`1970-01-01 00:00:00.123456789\tx\nplain line\n  ${label} not at start\n1970-01-01 00:00:00.123456789`);
  });

  it('passes malformed labels through unchanged (0.76 crashes on them)', async () => {
    const malformed = [
      '@400000003b9aca0a0000000 short',
      '@400000003B9ACA0A00000000 upper',
      '@400000003b9aca0a000000000 long',
      '@',
      '@ bare',
      '@000000000000000000000000 out of range',
    ];
    const r = await node(TAI64NLOCAL, malformed.join('\n') + '\n', { TZ: 'UTC' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(malformed.join('\n') + '\n');
  });

  it('round trip: tai64n then tai64nlocal gives the local time of now', async () => {
    const stamped = await node(TAI64N, 'ping\n');
    const r = await node(TAI64NLOCAL, stamped.stdout, { TZ: 'UTC' });
    const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{9}) ping\n$/.exec(r.stdout);
    expect(m).not.toBeNull();
    const t = Date.UTC(+m![1]!, +m![2]! - 1, +m![3]!, +m![4]!, +m![5]!, +m![6]!);
    expect(Math.abs(t - Date.now())).toBeLessThan(60_000);
  });

  it.skipIf(!fs.existsSync(C_TAI64NLOCAL))('agrees with C tai64nlocal on valid labels (needs /usr/bin/tai64nlocal)', async () => {
    const labels = [0, 1, 999_999_999, 1_000_000_000, 1_700_000_000, 2_000_000_000].map(
      (s, i) => `${formatTai64n(tai64nFromUnix(s, i * 111_111_111))} line ${i}`,
    );
    const input = labels.join('\n') + '\nplain\n';
    for (const TZ of ['UTC', 'America/New_York']) {
      const c = await run(C_TAI64NLOCAL, [], { input, env: { TZ } });
      const ours = await node(TAI64NLOCAL, input, { TZ });
      expect(ours.stdout).toBe(c.stdout);
    }
  });

  it.skipIf(!fs.existsSync(C_TAI64N))('C tai64nlocal reads our tai64n labels (needs /usr/bin/tai64n)', async () => {
    const ours = await node(TAI64N, 'a\nb\n');
    const c = await run(C_TAI64NLOCAL, [], { input: ours.stdout, env: { TZ: 'UTC' } });
    expect(c.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} a\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} b\n$/);
  });
});
