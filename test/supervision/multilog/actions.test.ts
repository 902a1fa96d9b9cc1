import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTai64n } from '../../../src/djb/tai64n.js';
import { run } from '../../support/run.js';
import { tempDir } from '../../support/tmp.js';
import { MULTILOG } from '../../support/multilog.js';

const multilog = (args: string[], cwd: string, input: string | Buffer) => run(process.execPath, [MULTILOG, ...args], { cwd, input });

describe('multilog actions', () => {
  it('e prints a selected line to stderr, long lines cut to 200 bytes plus "...\\n"', async () => {
    const dir = tempDir();
    const long = 'L'.repeat(201);
    const exact = 'E'.repeat(200);
    const r = await multilog(['-skip*', 'e'], dir, `short\nskip me\n${long}\n${exact}\n`);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`short\n${'L'.repeat(200)}...\n${exact}\n`);
  });

  it('e with t counts the 26-byte label in the 200', async () => {
    const dir = tempDir();
    const r = await multilog(['t', 'e'], dir, 'x'.repeat(300) + '\n');
    expect(r.stderr).toMatch(/^@[0-9a-f]{24} x{174}\.\.\.\n$/);
  });

  it('=file holds exactly 1001 bytes: the last selected line padded with newlines', async () => {
    const dir = tempDir();
    const r = await multilog(['=status', '-*', '+keep*', '=kept'], dir, 'keep a much longer first line\nkeep b\nother\n');
    expect(r.code).toBe(0);
    const status = fs.readFileSync(path.join(dir, 'status'));
    expect(status.length).toBe(1001);
    expect(status.equals(Buffer.concat([Buffer.from('other'), Buffer.alloc(1001 - 5, 10)]))).toBe(true);
    const kept = fs.readFileSync(path.join(dir, 'kept'));
    expect(kept.equals(Buffer.concat([Buffer.from('keep b'), Buffer.alloc(1001 - 6, 10)]))).toBe(true);
    expect(fs.statSync(path.join(dir, 'kept')).mode & 0o777).toBe(0o600);
  });

  it('=file keeps the first 1000 bytes of a long line (label included with t)', async () => {
    const dir = tempDir();
    await multilog(['t', '=s'], dir, 'y'.repeat(1500) + '\n');
    const s = fs.readFileSync(path.join(dir, 's'), 'latin1');
    expect(s.length).toBe(1001);
    expect(parseTai64n(s.slice(0, 25))).toBeDefined();
    expect(s.slice(25)).toBe(' ' + 'y'.repeat(974) + '\n');
  });

  it('patterns see at most 1000 bytes but the whole line is written (1500-byte line -> 1527 bytes with t)', async () => {
    const dir = tempDir();
    const line = 'z'.repeat(1500);
    const r = await multilog(['t', '-*', `+* ${'z'.repeat(974)}`, './d'], dir, line + '\n');
    expect(r.code).toBe(0);
    const cur = fs.readFileSync(path.join(dir, 'd/current'), 'latin1');
    expect(cur.length).toBe(1527);
    expect(cur.slice(26)).toBe(line + '\n');
  });

  it('adds the missing final newline, and with no script just reads', async () => {
    const dir = tempDir();
    await multilog(['./d'], dir, 'a\nno newline');
    expect(fs.readFileSync(path.join(dir, 'd/current'), 'latin1')).toBe('a\nno newline\n');
    const r = await multilog([], dir, 'ignored\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('ignores words 0.76 does not know, and a t that is not first', async () => {
    const dir = tempDir();
    const r = await multilog(['N5', 'l10', 'zz', 't', './d'], dir, 'plain\n');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'd/current'), 'latin1')).toBe('plain\n');
  });

  it('reports an =file it cannot create with 0.76 text and 111', async () => {
    const dir = tempDir();
    const r = await multilog(['=nodir/status'], dir, '');
    expect(r.code).toBe(111);
    expect(r.stderr).toBe('multilog: fatal: unable to create nodir/status: file does not exist\n');
  });

  it('reports a log directory path that is a file', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'f'), '');
    const r = await multilog(['./f'], dir, '');
    expect(r.code).toBe(111);
    expect(r.stderr).toBe('multilog: fatal: unable to open directory ./f: not a directory\n');
  });
});
