import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Root } from '../../src/core/root.js';
import { followLog, logDirOf, logPosition, tailLog } from '../../src/service/index.js';
import { formatTai64n, tai64nFromUnix } from '../../src/djb/tai64n.js';
import { pollUntil, startProcess } from '../support/procs.js';
import { DIST_BIN, djbpkg } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { ok } from '../support/service.js';

/**
 * Reading a multilog directory as `service logs` does, on files laid out as
 * multilog lays them out (archived `@….s` files, `current`), with rotation
 * done the way multilog does it: `current` renamed away, a new `current`.
 */

const label = (unix: number) => formatTai64n(tai64nFromUnix(unix, 500));
// 2026-01-02 03:04:05 UTC
const T0 = 1767323045;

function logLines(from: number, to: number): string {
  let s = '';
  for (let i = from; i <= to; i++) s += `${label(T0 + i)} line ${i}\n`;
  return s;
}

describe('service logs', { timeout: 60_000 }, () => {
  it('tailLog takes the last lines across archived files and current, with tai64nlocal times', () => {
    const dir = tempDir('djbpkg-logs-');
    writeFileSync(path.join(dir, `${label(T0 + 10)}.s`), logLines(1, 5));
    writeFileSync(path.join(dir, `${label(T0 + 20)}.s`), logLines(6, 8));
    writeFileSync(path.join(dir, 'current'), logLines(9, 10) + 'no label here\n');
    writeFileSync(path.join(dir, 'state'), '');
    writeFileSync(path.join(dir, 'lock'), '');
    const saved = process.env.TZ;
    process.env.TZ = 'UTC';
    try {
      expect(tailLog(dir, 5)).toEqual([
        '2026-01-02 03:04:12.000000500 line 7',
        '2026-01-02 03:04:13.000000500 line 8',
        '2026-01-02 03:04:14.000000500 line 9',
        '2026-01-02 03:04:15.000000500 line 10',
        'no label here',
      ]);
      expect(tailLog(dir, 100)).toHaveLength(11);
      expect(tailLog(dir, 0)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('followLog prints only new lines, finishes the rotated file, then reads the new current', async () => {
    const dir = tempDir('djbpkg-logs-');
    const current = path.join(dir, 'current');
    writeFileSync(current, logLines(1, 3));
    const got: string[] = [];
    const stop = new AbortController();
    const following = followLog(dir, (l) => got.push(l), stop.signal, 20);
    appendFileSync(current, logLines(4, 5));
    await pollUntil('lines 4 and 5', () => got.length === 2);
    // A half line, then rotation: multilog finishes the line in the old file first.
    appendFileSync(current, `${label(T0 + 6)} line`);
    appendFileSync(current, ' 6\n');
    renameSync(current, path.join(dir, `${label(T0 + 7)}.s`));
    writeFileSync(current, logLines(7, 8));
    await pollUntil('lines through 8', () => got.length === 5);
    stop.abort();
    await following;
    expect(got.map((l) => l.replace(/^\S+ \S+ /, ''))).toEqual(['line 4', 'line 5', 'line 6', 'line 7', 'line 8']);
    for (const l of got) expect(l).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.000000500 line \d$/);
  });

  it('logDirOf follows log/main of the definition; the CLI says when a service has no log', async () => {
    const root = tempDir('djbpkg-logs-root-');
    ok(await djbpkg(['--root', root, 'service', 'add', 'x', '--', 'true']));
    expect(logDirOf(new Root(root), 'x')).toBe(path.join(root, 'var/multilog/x'));
    writeFileSync(path.join(root, 'var/multilog/x/current'), logLines(1, 2));
    const r = await djbpkg(['--root', root, 'service', 'logs', 'x', '-n', '1']);
    expect(r).toMatchObject({ code: 0, stdout: '2026-01-02 03:04:07.000000500 line 2\n', stderr: '' });
    const none = await djbpkg(['--root', root, 'service', 'logs', 'nosuch']);
    expect(none.code).toBe(100);
    expect(none.stderr).toMatch(/^djbpkg: fatal: service nosuch has no log directory \(\S*\/var\/multilog\/nosuch\)\n/);
  });

  it('logs-follow-10s: service logs -f polls for 10 seconds with nothing on stderr (no MaxListenersExceededWarning)', async () => {
    const root = tempDir('djbpkg-logs-root-');
    ok(await djbpkg(['--root', root, 'service', 'add', 'x', '--', 'true']));
    const current = path.join(root, 'var/multilog/x/current');
    writeFileSync(current, logLines(1, 1));
    const started = Date.now();
    const f = startProcess(process.execPath, [path.join(DIST_BIN, 'djbpkg.js'), '--root', root, 'service', 'logs', 'x', '-f']);
    await pollUntil('the last line first', () => f.stdout().includes('line 1'), { timeoutMs: 20_000 });
    let n = 2;
    // New lines keep coming while it follows, so the poll loop is shown to be alive throughout.
    while (Date.now() - started < 10_000) {
      appendFileSync(current, logLines(n, n));
      const want = `line ${n}`;
      await pollUntil(want, () => f.stdout().includes(want), { timeoutMs: 20_000 });
      n++;
      await new Promise((r) => setTimeout(r, 500));
    }
    process.kill(f.pid, 'SIGTERM');
    const end = await f.exited;
    expect(end.code).toBe(0);
    expect(f.stderr()).toBe('');
  });

  it('follow-from-tail: lines written between the tail and the start of following are not lost', async () => {
    const dir = tempDir('djbpkg-logs-');
    const current = path.join(dir, 'current');
    writeFileSync(current, logLines(1, 2));
    const at = logPosition(dir);
    appendFileSync(current, logLines(3, 3));
    const got: string[] = [];
    const stop = new AbortController();
    const following = followLog(dir, (l) => got.push(l), stop.signal, 20, at);
    await pollUntil('line 3', () => got.some((l) => l.endsWith('line 3')));
    stop.abort();
    await following;
    expect(got.map((l) => l.replace(/^\S+ \S+ /, ''))).toEqual(['line 3']);
  });

  it('logs-n-word: -n that is not a whole number says so in one line (never NaN)', async () => {
    const root = tempDir('djbpkg-logs-root-');
    ok(await djbpkg(['--root', root, 'service', 'add', 'x', '--', 'true']));
    for (const [v, shown] of [['ten', 'ten'], ['1.5', '1.5'], ['-3', '-3']]) {
      const r = await djbpkg(['--root', root, 'service', 'logs', 'x', '-n', v!]);
      expect(r.code, r.stderr).toBe(100);
      expect(r.stderr.split('\n')[0]).toBe(`djbpkg: fatal: bad -n ${shown}: want a whole number of lines (0 or more)`);
      expect(r.stderr).not.toContain('NaN');
    }
  });
});
