import { describe, expect, it } from 'vitest';
import { DjbError } from '../../src/core/errors.js';
import { parsePatch, patchDescription } from '../../src/patch/index.js';

const twoFiles = [
  '# demo: two files changed',
  '#',
  '# longer explanation',
  '',
  '--- a/src/one.c\t2001-07-12 16:49:49.000000000 +0000',
  '+++ b/src/one.c\t2024-01-01 00:00:00.000000000 +0000',
  '@@ -1,3 +1,3 @@',
  ' alpha',
  '-beta',
  '+BETA',
  ' gamma',
  '--- a/src/two.c',
  '+++ b/src/two.c',
  '@@ -2,2 +2,3 @@',
  ' x',
  '+y',
  ' z',
  '@@ -10,2 +11,2 @@',
  '-p',
  '+P',
  ' q',
  '',
].join('\n');

describe('parsePatch', () => {
  it('reads every file of a multi-file diff, skipping the header commentary', () => {
    const files = parsePatch(twoFiles);
    expect(files.map((f) => [f.oldPath, f.newPath, f.change, f.hunks.length])).toEqual([
      ['a/src/one.c', 'b/src/one.c', 'modify', 1],
      ['a/src/two.c', 'b/src/two.c', 'modify', 2],
    ]);
    const second = files[1]!.hunks[1]!;
    expect([second.oldStart, second.oldLines, second.newStart, second.newLines]).toEqual([10, 2, 11, 2]);
    expect(second.lines).toEqual([
      { op: 'remove', text: 'p\n' },
      { op: 'add', text: 'P\n' },
      { op: 'context', text: 'q\n' },
    ]);
  });

  it('reads `diff -ruN` output, whose "diff -ruN" lines sit between files', () => {
    const text = [
      'diff -ruN daemontools-0.76.orig/src/a.c daemontools-0.76/src/a.c',
      '--- daemontools-0.76.orig/src/a.c\t2001-07-12 16:49:49.000000000 +0000',
      '+++ daemontools-0.76/src/a.c\t2024-01-01 00:00:00.000000000 +0000',
      '@@ -1 +1 @@',
      '-x',
      '+y',
      'diff -ruN daemontools-0.76.orig/src/b.c daemontools-0.76/src/b.c',
      '--- daemontools-0.76.orig/src/b.c\t1970-01-01 00:00:00.000000000 +0000',
      '+++ daemontools-0.76/src/b.c\t2024-01-01 00:00:00.000000000 +0000',
      '@@ -0,0 +1 @@',
      '+new',
      '',
    ].join('\n');
    expect(parsePatch(text).map((f) => [f.oldPath, f.newPath, f.change])).toEqual([
      ['daemontools-0.76.orig/src/a.c', 'daemontools-0.76/src/a.c', 'modify'],
      ['daemontools-0.76.orig/src/b.c', 'daemontools-0.76/src/b.c', 'create'],
    ]);
  });

  it('marks files created from /dev/null and deleted to /dev/null, keeping header line numbers', () => {
    const files = parsePatch(
      [
        '--- /dev/null',
        '+++ b/new.txt',
        '@@ -0,0 +1,2 @@',
        '+one',
        '+two',
        '--- a/old.txt',
        '+++ /dev/null',
        '@@ -1 +0,0 @@',
        '-gone',
        '',
      ].join('\n'),
    );
    expect(files.map((f) => f.change)).toEqual(['create', 'delete']);
    expect(files[0]!.hunks[0]!.oldStart).toBe(0);
    expect(files[1]!.hunks[0]!.newStart).toBe(0);
  });

  it('recognises GNU diff -N epoch dates as create and delete', () => {
    const files = parsePatch(
      [
        '--- a/made.txt\t1970-01-01 00:00:00.000000000 +0000',
        '+++ b/made.txt\t2024-05-01 10:00:00.000000000 +0000',
        '@@ -0,0 +1 @@',
        '+hello',
        '',
      ].join('\n'),
    );
    expect(files[0]!.change).toBe('create');
  });

  it('drops the terminator of a line followed by "\\ No newline at end of file"', () => {
    const [file] = parsePatch(
      ['--- a/f', '+++ b/f', '@@ -1 +1 @@', '-old', '\\ No newline at end of file', '+new', '\\ No newline at end of file', ''].join(
        '\n',
      ),
    );
    expect(file!.hunks[0]!.lines).toEqual([
      { op: 'remove', text: 'old' },
      { op: 'add', text: 'new' },
    ]);
  });

  it('refuses a malformed diff with E_PATCH', () => {
    const bad = ['--- a/f', '+++ b/f', '@@ -1,3 +1,3 @@', ' a', '-b', ''].join('\n');
    expect(() => parsePatch(bad)).toThrow(DjbError);
    expect(() => parsePatch(bad)).toThrow(/malformed unified diff/);
    expect(() => parsePatch('# only words here\n')).toThrow(/no file changes found/);
  });
});

describe('patchDescription', () => {
  it('is the first non-empty line before the diff, without its #', () => {
    expect(patchDescription(twoFiles)).toBe('demo: two files changed');
    expect(patchDescription('\n\n#   spaced out  \n--- a/x\n')).toBe('spaced out');
  });
  it('is undefined for a patch that starts with the diff', () => {
    expect(patchDescription('--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n')).toBeUndefined();
  });
});
