import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/tmp.js';
import { archives, fileSize, logContents, mode, send, startMultilog } from '../../support/multilog.js';
import { pollUntil } from '../../support/procs.js';

describe('multilog signals and crashes', () => {
  it('SIGALRM rotates a non-empty current at once, without waiting for input', async () => {
    const dir = tempDir();
    const d = path.join(dir, 'd');
    const ml = startMultilog(['./d'], dir);
    await send(ml, 'before alarm\n');
    await pollUntil('line in current', () => fileSize(path.join(d, 'current')) === 13);
    ml.child.kill('SIGALRM');
    const name = await pollUntil('archive', () => archives(d)[0]);
    expect(name).toMatch(/^@[0-9a-f]{24}\.s$/);
    expect(fs.readFileSync(path.join(d, name), 'latin1')).toBe('before alarm\n');
    expect(fileSize(path.join(d, 'current'))).toBe(0);
    await send(ml, 'after\n');
    await pollUntil('second line', () => fileSize(path.join(d, 'current')) === 6);
    ml.child.stdin.end();
    expect(await ml.exited).toEqual([0, null]);
    expect(archives(d)).toEqual([name]);
  });

  it('SIGALRM leaves an empty current alone', async () => {
    const dir = tempDir();
    const d = path.join(dir, 'd');
    const ml = startMultilog(['./d'], dir);
    await pollUntil('started', () => fs.existsSync(path.join(d, 'current')));
    ml.child.kill('SIGALRM');
    ml.child.kill('SIGTERM');
    expect(await ml.exited).toEqual([0, null]);
    expect(archives(d)).toEqual([]);
  });

  it('SIGTERM at a line boundary exits 0 at once and marks current complete (0744)', async () => {
    const dir = tempDir();
    const d = path.join(dir, 'd');
    const ml = startMultilog(['./d'], dir);
    await send(ml, 'one\n');
    await pollUntil('line in current', () => fileSize(path.join(d, 'current')) === 4);
    ml.child.kill('SIGTERM');
    expect(await ml.exited).toEqual([0, null]);
    expect(mode(path.join(d, 'current'))).toBe(0o744);
    expect(fs.readFileSync(path.join(d, 'current'), 'latin1')).toBe('one\n');
  });

  it('SIGTERM in the middle of a line reads on until the newline, then exits 0', async () => {
    const dir = tempDir();
    const d = path.join(dir, 'd');
    const ml = startMultilog(['./d'], dir);
    await send(ml, 'first\npart');
    await pollUntil('first line in current', () => fileSize(path.join(d, 'current')) === 6);
    ml.child.kill('SIGTERM');
    await send(ml, 'ial\n');
    expect(await ml.exited).toEqual([0, null]);
    expect(fs.readFileSync(path.join(d, 'current'), 'latin1')).toBe('first\npartial\n');
    expect(mode(path.join(d, 'current'))).toBe(0o744);
  });

  it('SIGTERM with a partial line and then end of input completes the line with a newline', async () => {
    const dir = tempDir();
    const d = path.join(dir, 'd');
    const ml = startMultilog(['./d'], dir);
    await send(ml, 'first\ncut');
    await pollUntil('first line in current', () => fileSize(path.join(d, 'current')) === 6);
    ml.child.kill('SIGTERM');
    ml.child.stdin.end();
    expect(await ml.exited).toEqual([0, null]);
    expect(fs.readFileSync(path.join(d, 'current'), 'latin1')).toBe('first\ncut\n');
  });

  it('after kill -9 the next start salvages current as .u and loses nothing written before', async () => {
    const dir = tempDir();
    const d = path.join(dir, 'd');
    const a = Array.from({ length: 500 }, (_, i) => `a ${i}\n`).join('');
    const ml = startMultilog(['./d'], dir);
    await send(ml, a);
    await pollUntil('all of a on disk', () => fileSize(path.join(d, 'current')) === a.length);
    ml.child.kill('SIGKILL');
    await ml.exited;
    expect(mode(path.join(d, 'current'))).toBe(0o644);

    const again = startMultilog(['./d'], dir);
    const b = Array.from({ length: 100 }, (_, i) => `b ${i}\n`).join('');
    await send(again, b);
    again.child.stdin.end();
    expect(await again.exited).toEqual([0, null]);
    const names = archives(d);
    expect(names.length).toBe(1);
    expect(names[0]).toMatch(/^@[0-9a-f]{24}\.u$/);
    expect(fs.readFileSync(path.join(d, names[0]!), 'latin1')).toBe(a);
    expect(logContents(d).toString('latin1')).toBe(a + b);
    expect(fs.readFileSync(path.join(d, 'state')).length).toBe(0);
  });

  it('a clean restart appends to current (0744 -> 0644 while open)', async () => {
    const dir = tempDir();
    const d = path.join(dir, 'd');
    const first = startMultilog(['./d'], dir);
    await send(first, 'x\n');
    first.child.stdin.end();
    await first.exited;
    const second = startMultilog(['./d'], dir);
    await send(second, 'y\n');
    await pollUntil('second line', () => fileSize(path.join(d, 'current')) === 4);
    expect(mode(path.join(d, 'current'))).toBe(0o644);
    second.child.stdin.end();
    await second.exited;
    expect(fs.readFileSync(path.join(d, 'current'), 'latin1')).toBe('x\ny\n');
    expect(archives(d)).toEqual([]);
  });

  it('recovers processed (x bit) as .s and drops previous; otherwise previous becomes .u', async () => {
    const dir = tempDir();
    const d1 = path.join(dir, 'd1');
    fs.mkdirSync(d1);
    fs.writeFileSync(path.join(d1, 'processed'), 'done\n', { mode: 0o744 });
    fs.chmodSync(path.join(d1, 'processed'), 0o744);
    fs.writeFileSync(path.join(d1, 'previous'), 'raw\n');
    fs.writeFileSync(path.join(d1, 'current'), 'cur\n', { mode: 0o644 });
    fs.writeFileSync(path.join(d1, 'newstate'), 'junk');
    const d2 = path.join(dir, 'd2');
    fs.mkdirSync(d2);
    fs.writeFileSync(path.join(d2, 'processed'), 'half', { mode: 0o644 });
    fs.writeFileSync(path.join(d2, 'previous'), 'raw2\n');
    const ml = startMultilog(['./d1', './d2'], dir);
    ml.child.stdin.end();
    expect(await ml.exited).toEqual([0, null]);
    const body = (d: string) => archives(d).map((n) => [n.slice(-2), fs.readFileSync(path.join(d, n), 'latin1')]);
    expect(body(d1)).toEqual([
      ['.s', 'done\n'],
      ['.u', 'cur\n'],
    ]);
    expect(body(d2)).toEqual([['.u', 'raw2\n']]);
    for (const d of [d1, d2]) {
      expect(fs.readdirSync(d).filter((n) => !n.startsWith('@')).sort()).toEqual(['current', 'lock', 'state']);
    }
  });
});

describe('multilog processor that cannot start', () => {
  it('prints 0.76 texts, retries, and archives once state is back', async () => {
    const dir = tempDir();
    const d = path.join(dir, 'd');
    const ml = startMultilog(['!cat', './d'], dir);
    await send(ml, 'kept\n');
    await pollUntil('line in current', () => fileSize(path.join(d, 'current')) === 5);
    fs.unlinkSync(path.join(d, 'state'));
    ml.child.kill('SIGALRM');
    await pollUntil('failure reported', () => ml.stderr().includes('processor failed'));
    expect(ml.stderr().split('\n')[0]).toBe('multilog: fatal: unable to run cat: file does not exist');
    expect(ml.stderr()).toContain('multilog: warning: processor failed in ./d, pausing\n');
    fs.writeFileSync(path.join(d, 'state'), '');
    const name = await pollUntil('archive', () => archives(d)[0]);
    expect(fs.readFileSync(path.join(d, name), 'latin1')).toBe('kept\n');
    ml.child.stdin.end();
    expect(await ml.exited).toEqual([0, null]);
  });
});
