import { describe, expect, it } from 'vitest';
import { applyFilePatch, applyToText, chooseStrip, parsePatch } from '../../src/patch/index.js';
import type { FilePatch } from '../../src/patch/index.js';

/** Numbered lines `L<from>`..`L<to>`, each newline-terminated. */
function numbered(from: number, to: number): string {
  let s = '';
  for (let i = from; i <= to; i++) s += `L${i}\n`;
  return s;
}

function onlyFile(text: string): FilePatch {
  const files = parsePatch(text);
  expect(files).toHaveLength(1);
  return files[0]!;
}

const twoHunks = onlyFile(
  [
    '--- a/src/svc.c',
    '+++ b/src/svc.c',
    '@@ -4,3 +4,3 @@',
    ' L4',
    '-L5',
    '+FIVE',
    ' L6',
    '@@ -14,3 +14,4 @@',
    ' L14',
    ' L15',
    '+after fifteen',
    ' L16',
    '',
  ].join('\n'),
);
const original = numbered(1, 20);
const patched = original.replace('L5\n', 'FIVE\n').replace('L15\n', 'L15\nafter fifteen\n');

function thrown(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected an exception');
}

describe('applyToText', () => {
  it('applies hunks at their stated lines', () => {
    expect(applyToText(original, twoHunks)).toBe(patched);
  });

  it('patch-shifted-offset: finds hunks moved down and up from their stated lines', () => {
    const down = 'extra 1\nextra 2\nextra 3\n' + original;
    expect(applyToText(down, twoHunks)).toBe('extra 1\nextra 2\nextra 3\n' + patched);
    const up = original.replace('L1\nL2\n', '');
    expect(applyToText(up, twoHunks)).toBe(patched.replace('L1\nL2\n', ''));
    // lines inserted between the hunks shift only the second
    const between = original.replace('L10\n', 'L10\nnew a\nnew b\n');
    expect(applyToText(between, twoHunks)).toBe(patched.replace('L10\n', 'L10\nnew a\nnew b\n'));
  });

  it('patch-shifted-offset: prefers the nearest match when the context occurs twice', () => {
    const file = onlyFile(['--- a/f', '+++ b/f', '@@ -5,1 +5,1 @@', '-dup', '+DUP', ''].join('\n'));
    const text = 'a\ndup\nb\nc\nd\ne\ndup\nf\n';
    // stated line 5: the copy at line 7 is 2 away, the one at line 2 is 3 away
    expect(applyToText(text, file)).toBe('a\ndup\nb\nc\nd\ne\nDUP\nf\n');
  });

  it('patch-already-applied: reports already-applied and leaves the text unchanged', () => {
    expect(applyFilePatch(patched, twoHunks)).toEqual({ status: 'already-applied', text: patched });
    expect(applyToText(patched, twoHunks)).toBe(patched);
    expect(applyFilePatch(original, twoHunks).status).toBe('applied');
  });

  it('patch-hunk-fails-names-file-and-hunk: names the stripped path and the hunk number', () => {
    const broken = original.replace('L15\n', 'changed upstream\n');
    const err = thrown(() => applyToText(broken, twoHunks));
    expect(err.code).toBe('E_PATCH');
    expect(err.message).toBe('src/svc.c: hunk 2 does not apply');
    expect(thrown(() => applyToText(original.replace('L5\n', 'x\n'), twoHunks)).message).toBe(
      'src/svc.c: hunk 1 does not apply',
    );
  });

  it('half-applied text (hunk 1 done, hunk 2 not) is a failure, not already-applied', () => {
    const half = original.replace('L5\n', 'FIVE\n').replace('L15\n', 'moved\n');
    expect(thrown(() => applyToText(half, twoHunks)).message).toBe('src/svc.c: hunk 1 does not apply');
  });

  it('keeps a missing final newline and respects "No newline at end of file"', () => {
    const file = onlyFile(
      ['--- a/f', '+++ b/f', '@@ -1,2 +1,2 @@', ' a', '-b', '\\ No newline at end of file', '+b', ''].join('\n'),
    );
    expect(applyToText('a\nb', file)).toBe('a\nb\n');
    expect(applyFilePatch('a\nb\n', file).status).toBe('already-applied');
    expect(thrown(() => applyToText('a\nc', file)).message).toBe('f: hunk 1 does not apply');
  });

  it('new-file: creates from nothing, is already-applied when present, refuses other contents', () => {
    const file = onlyFile(['--- /dev/null', '+++ b/doc/new.txt', '@@ -0,0 +1,2 @@', '+one', '+two', ''].join('\n'));
    expect(applyFilePatch(undefined, file)).toEqual({ status: 'applied', text: 'one\ntwo\n' });
    expect(applyFilePatch('one\ntwo\n', file).status).toBe('already-applied');
    expect(thrown(() => applyFilePatch('other\n', file)).message).toMatch(/^doc\/new\.txt: file to be created already exists/);
  });

  it('delete-file: deletes matching text, is already-applied when absent, refuses other contents', () => {
    const file = onlyFile(['--- a/old.txt', '+++ /dev/null', '@@ -1,2 +0,0 @@', '-x', '-y', ''].join('\n'));
    expect(applyFilePatch('x\ny\n', file)).toEqual({ status: 'applied', text: undefined });
    expect(applyFilePatch(undefined, file).status).toBe('already-applied');
    expect(thrown(() => applyFilePatch('x\nz\n', file)).code).toBe('E_PATCH');
  });

  it('a missing file to modify is named', () => {
    expect(thrown(() => applyFilePatch(undefined, twoHunks)).message).toBe('src/svc.c: file to patch does not exist');
  });
});

describe('chooseStrip', () => {
  const tree = new Set(['src/error.h', 'src/svc.c', 'package/compile']);
  const exists = (rel: string): boolean => tree.has(rel);
  const at = (prefix: string): FilePatch[] =>
    parsePatch(
      ['--- ' + prefix + 'src/error.h', '+++ ' + prefix + 'src/error.h', '@@ -1 +1 @@', '-a', '+b', ''].join('\n'),
    );

  it('is 1 for a/ b/ paths', () => {
    expect(chooseStrip(at('a/'), exists)).toBe(1);
  });
  it('patch-strip-detected: finds 0, 1, 2 for other prefixes', () => {
    expect(chooseStrip(at(''), exists)).toBe(0);
    expect(chooseStrip(at('daemontools-0.76/'), exists)).toBe(1);
    expect(chooseStrip(at('admin/daemontools-0.76/'), exists)).toBe(2);
    expect(chooseStrip(at('x/admin/daemontools-0.76/'), exists)).toBe(3);
  });
  it('falls back to 1 when no level finds the files (apply then names the missing file)', () => {
    expect(chooseStrip(parsePatch('--- a/lib/missing.c\n+++ b/lib/missing.c\n@@ -1 +1 @@\n-a\n+b\n'), exists)).toBe(1);
  });
});
