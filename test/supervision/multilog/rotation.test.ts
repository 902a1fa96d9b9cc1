import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../support/run.js';
import { tempDir } from '../../support/tmp.js';
import { MULTILOG, archives, logContents, mixedLines, mode } from '../../support/multilog.js';

const multilog = (args: string[], cwd: string, input: string | Buffer, env: Record<string, string> = {}) =>
  run(process.execPath, [MULTILOG, ...args], { cwd, input, env: { DJBPKG_MULTILOG_PAUSE_MS: '50', ...env } });

describe('multilog rotation', () => {
  it('cuts .s files at line boundaries between s-2000 and s bytes and keeps n-1 of them', async () => {
    const dir = tempDir();
    const lines = mixedLines(3000, 7).filter((l) => l.length < 1900);
    const input = lines.join('\n') + '\n';
    const r = await multilog(['s4096', 'n1000', './all', 'n3', './few'], dir, input);
    expect(r.code).toBe(0);
    const all = path.join(dir, 'all');
    const names = archives(all);
    expect(names.length).toBeGreaterThan(10);
    for (const n of names) {
      expect(n).toMatch(/^@[0-9a-f]{24}\.s$/);
      const body = fs.readFileSync(path.join(all, n));
      expect(body.length).toBeGreaterThanOrEqual(4096 - 2000);
      expect(body.length).toBeLessThanOrEqual(4096);
      expect(body[body.length - 1]).toBe(10);
      expect(mode(path.join(all, n))).toBe(0o744);
    }
    expect(logContents(all).toString('latin1')).toBe(input);
    expect(mode(path.join(all, 'current'))).toBe(0o744);
    expect(fs.readFileSync(path.join(all, 'state')).length).toBe(0);
    expect(mode(path.join(all, 'lock'))).toBe(0o600);
    // n3: two archives remain, and they are the newest two of the full history.
    const few = archives(path.join(dir, 'few'));
    expect(few.length).toBe(2);
    const fewBodies = few.map((n) => fs.readFileSync(path.join(dir, 'few', n), 'latin1'));
    const allBodies = names.map((n) => fs.readFileSync(path.join(all, n), 'latin1'));
    expect(fewBodies).toEqual(allBodies.slice(-2));
  });

  it('splits a line only when it cannot fit (s=4096: lines of 3000 bytes)', async () => {
    const dir = tempDir();
    const lines = Array.from({ length: 6 }, (_, i) => String(i).repeat(3000));
    const input = lines.join('\n') + '\n';
    await multilog(['s4096', './d'], dir, input);
    const d = path.join(dir, 'd');
    for (const n of archives(d)) expect(fs.statSync(path.join(d, n)).size).toBeLessThanOrEqual(4096);
    expect(logContents(d).toString('latin1')).toBe(input);
  });

  it('clamps s to 4096 and raises n to 2 (one archive kept)', async () => {
    const dir = tempDir();
    const input = Array.from({ length: 400 }, (_, i) => `line ${i} ${'p'.repeat(40)}`).join('\n') + '\n';
    await multilog(['s10', 'n1', './d'], dir, input);
    const d = path.join(dir, 'd');
    const names = archives(d);
    expect(names.length).toBe(1);
    const size = fs.statSync(path.join(d, names[0]!)).size;
    expect(size).toBeGreaterThanOrEqual(4096 - 2000);
    expect(size).toBeLessThanOrEqual(4096);
  });

  it('passes 100000 lines through with rotation, each exactly once and in order, labels rising', async () => {
    const dir = tempDir();
    const lines = Array.from({ length: 100_000 }, (_, i) => `${i} ${'m'.repeat(i % 97)}`);
    const r = await multilog(['t', 's100000', 'n10000', './d'], dir, lines.join('\n') + '\n');
    expect(r.code).toBe(0);
    const got = logContents(path.join(dir, 'd')).toString('latin1').split('\n');
    expect(got.pop()).toBe('');
    expect(got.length).toBe(lines.length);
    let last = '';
    for (let i = 0; i < got.length; i++) {
      const g = got[i]!;
      const label = g.slice(0, 25);
      expect(label).toMatch(/^@[0-9a-f]{24}$/);
      if (label < last) throw new Error(`label went backwards at line ${i}`);
      last = label;
      if (g.slice(26) !== lines[i]) throw new Error(`line ${i} differs`);
    }
    expect(archives(path.join(dir, 'd')).length).toBeGreaterThan(20);
  });
});

describe('multilog processor', () => {
  it('runs !processor on each rotated file: output becomes the archive', async () => {
    const dir = tempDir();
    const input = Array.from({ length: 300 }, (_, i) => `hello ${i} ${'w'.repeat(50)}`).join('\n') + '\n';
    const r = await multilog(['s4096', '!tr a-z A-Z', './d'], dir, input);
    expect(r.code).toBe(0);
    const d = path.join(dir, 'd');
    const names = archives(d);
    expect(names.length).toBeGreaterThan(2);
    const archived = names.map((n) => fs.readFileSync(path.join(d, n), 'latin1')).join('');
    const current = fs.readFileSync(path.join(d, 'current'), 'latin1');
    expect(archived + current.toUpperCase()).toBe(input.toUpperCase());
    expect(archived).toBe(archived.toUpperCase());
    for (const f of ['previous', 'processed', 'newstate']) expect(fs.existsSync(path.join(d, f))).toBe(false);
  });

  it('hands state to the processor on fd 4 and keeps what it writes to fd 5', async () => {
    const dir = tempDir();
    const input = Array.from({ length: 300 }, (_, i) => `line ${i} ${'s'.repeat(60)}`).join('\n') + '\n';
    const proc = 'cat; n=$(cat <&4); echo $((n + 1)) >&5';
    const r = await multilog(['s4096', `!${proc}`, './d'], dir, input);
    expect(r.code).toBe(0);
    const d = path.join(dir, 'd');
    const rotations = archives(d).length;
    expect(rotations).toBeGreaterThan(2);
    expect(fs.readFileSync(path.join(d, 'state'), 'latin1')).toBe(`${rotations}\n`);
    expect(logContents(d).toString('latin1')).toBe(input);
  });

  it('warns and retries a failing processor until it succeeds, losing nothing', async () => {
    const dir = tempDir();
    const input = Array.from({ length: 120 }, (_, i) => `retry ${i} ${'r'.repeat(60)}`).join('\n') + '\n';
    // Fails twice, then succeeds: the counter lives beside the log dir.
    const proc = 'c=$(cat ../count 2>/dev/null || echo 0); echo $((c + 1)) > ../count; test $c -ge 2 && cat';
    const r = await multilog(['s4096', `!${proc}`, './d'], dir, input);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('multilog: warning: processor failed in ./d, pausing\n'.repeat(2));
    expect(logContents(path.join(dir, 'd')).toString('latin1')).toBe(input);
  });

  it('reports a processor killed by a signal as crashed, then failed', async () => {
    const dir = tempDir();
    const input = Array.from({ length: 120 }, (_, i) => `crash ${i} ${'c'.repeat(60)}`).join('\n') + '\n';
    const proc = 'if test -e ../crashed; then cat; else touch ../crashed; kill -9 $$; fi';
    const r = await multilog(['s4096', `!${proc}`, './d'], dir, input);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^multilog: warning: processor crashed in \.\/d, pausing: [a-z ]+\nmultilog: warning: processor failed in \.\/d, pausing\n$/,
    );
    expect(logContents(path.join(dir, 'd')).toString('latin1')).toBe(input);
  });
});
