import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPatchSets } from '../../src/install/patch.js';
import type { PatchSetToApply } from '../../src/install/patch.js';
import { tempDir } from '../support/tmp.js';

/** Writes `files` (tree-relative path → text) under a fresh tree dir. */
function makeTree(files: Record<string, string>): string {
  const dir = path.join(tempDir('djbpkg-patch-'), 'admin', 'pkg-1.0');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** Saves a patch text beside (not inside) the tree and returns the set to apply. */
function patchSet(tree: string, name: string, text: string): PatchSetToApply {
  const file = path.join(tree, '..', '..', `${name}.patch`);
  writeFileSync(file, text);
  return { name, file };
}

/** Every file under dir with its bytes, for before/after comparison. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, full)] = readFileSync(full, 'latin1') + `|mode=${(statSync(full).mode & 0o7777).toString(8)}`;
  }
  return out;
}

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

const changeOne = ['# one: change one.c', '--- a/src/one.c', '+++ b/src/one.c', '@@ -1,3 +1,3 @@', ' a', '-b', '+B', ' c', ''].join('\n');

describe('applyPatchSets', () => {
  it('applies sets in order, later sets seeing earlier output, keeping modes', async () => {
    const tree = makeTree({ 'src/one.c': 'a\nb\nc\n', 'package/compile': '#!/bin/sh\necho hi\n' });
    chmodSync(path.join(tree, 'package/compile'), 0o755);
    const second = [
      '--- a/src/one.c',
      '+++ b/src/one.c',
      '@@ -2,2 +2,3 @@',
      ' B',
      '+b2',
      ' c',
      '--- a/package/compile',
      '+++ b/package/compile',
      '@@ -1,2 +1,2 @@',
      ' #!/bin/sh',
      '-echo hi',
      '+echo hello',
      '',
    ].join('\n');
    const results = await applyPatchSets(tree, [patchSet(tree, 'one', changeOne), patchSet(tree, 'two', second)]);
    expect(results).toEqual([
      { name: 'one', status: 'applied', files: ['src/one.c'], strip: 1 },
      { name: 'two', status: 'applied', files: ['src/one.c', 'package/compile'], strip: 1 },
    ]);
    expect(readFileSync(path.join(tree, 'src/one.c'), 'utf8')).toBe('a\nB\nb2\nc\n');
    expect(readFileSync(path.join(tree, 'package/compile'), 'utf8')).toBe('#!/bin/sh\necho hello\n');
    expect(statSync(path.join(tree, 'package/compile')).mode & 0o7777).toBe(0o755);
    expect(readdirSync(path.join(tree, 'src'))).toEqual(['one.c']);
  });

  it('patch-already-applied: a second run reports already-applied and writes nothing', async () => {
    const tree = makeTree({ 'src/one.c': 'a\nb\nc\n' });
    const set = patchSet(tree, 'one', changeOne);
    await applyPatchSets(tree, [set]);
    const before = snapshot(tree);
    const mtime = statSync(path.join(tree, 'src/one.c')).mtimeMs;
    expect(await applyPatchSets(tree, [set])).toEqual([
      { name: 'one', status: 'already-applied', files: ['src/one.c'], strip: 1 },
    ]);
    expect(snapshot(tree)).toEqual(before);
    expect(statSync(path.join(tree, 'src/one.c')).mtimeMs).toBe(mtime);
  });

  it('patch-hunk-fails-names-file-and-hunk: the message names set, file and hunk; exit 100', async () => {
    const tree = makeTree({ 'src/svc.c': 'l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\n' });
    const text = [
      '--- a/src/svc.c',
      '+++ b/src/svc.c',
      '@@ -1,2 +1,2 @@',
      '-l1',
      '+L1',
      ' l2',
      '@@ -6,2 +6,2 @@',
      ' l6',
      '-not in the file',
      '+L7',
      '',
    ].join('\n');
    const before = snapshot(tree);
    const err = await rejection(applyPatchSets(tree, [patchSet(tree, 'sigq12', text)]));
    expect(err.code).toBe('E_PATCH');
    expect(err.message).toBe('patch sigq12: src/svc.c: hunk 2 does not apply');
    expect((err as unknown as { exitCode: number }).exitCode).toBe(100);
    expect(snapshot(tree)).toEqual(before);
  });

  it('patch-multi-file-all-or-nothing: a failing 2nd file leaves the 1st untouched on disk', async () => {
    const tree = makeTree({ 'src/one.c': 'a\nb\nc\n', 'src/two.c': 'x\ny\n' });
    const text =
      changeOne +
      ['--- a/src/two.c', '+++ b/src/two.c', '@@ -1,2 +1,2 @@', ' x', '-WRONG', '+Y', ''].join('\n');
    const before = snapshot(tree);
    const err = await rejection(applyPatchSets(tree, [patchSet(tree, 'both', text)]));
    expect(err.message).toBe('patch both: src/two.c: hunk 1 does not apply');
    expect(snapshot(tree)).toEqual(before);
  });

  it('patch-multi-file-all-or-nothing: a failing later set leaves the earlier sets unwritten', async () => {
    const tree = makeTree({ 'src/one.c': 'a\nb\nc\n' });
    const bad = ['--- a/src/one.c', '+++ b/src/one.c', '@@ -1 +1 @@', '-zzz', '+yyy', ''].join('\n');
    const before = snapshot(tree);
    const err = await rejection(applyPatchSets(tree, [patchSet(tree, 'good', changeOne), patchSet(tree, 'bad', bad)]));
    expect(err.message).toBe('patch bad: src/one.c: hunk 1 does not apply');
    expect(snapshot(tree)).toEqual(before);
  });

  it('patch-strip-detected: paths carrying a longer prefix apply at the right level', async () => {
    const tree = makeTree({ 'src/error.h': 'x\nextern int errno;\ny\n' });
    const text = (oldPrefix: string, newPrefix: string): string =>
      [
        `--- ${oldPrefix}src/error.h`,
        `+++ ${newPrefix}src/error.h`,
        '@@ -1,3 +1,3 @@',
        ' x',
        '-extern int errno;',
        '+#include <errno.h>',
        ' y',
        '',
      ].join('\n');
    const deep = 'admin/daemontools-0.76/';
    const [res] = await applyPatchSets(tree, [patchSet(tree, 'errno', text(deep, deep))]);
    expect(res).toEqual({ name: 'errno', status: 'applied', files: ['src/error.h'], strip: 2 });
    expect(readFileSync(path.join(tree, 'src/error.h'), 'utf8')).toBe('x\n#include <errno.h>\ny\n');
    const [again] = await applyPatchSets(tree, [patchSet(tree, 'errno', text('daemontools-0.76.orig/', 'daemontools-0.76/'))]);
    expect(again).toEqual({ name: 'errno', status: 'already-applied', files: ['src/error.h'], strip: 1 });
  });

  it('new-file and delete-file: creates with mode 644 in a new directory, removes the deleted file', async () => {
    const tree = makeTree({ 'src/old.c': 'gone\n', 'src/keep.c': 'k\n' });
    const text = [
      '--- /dev/null',
      '+++ b/doc/svc.txt',
      '@@ -0,0 +1,2 @@',
      '+svc -1 sends USR1',
      '+svc -2 sends USR2',
      '--- a/src/old.c',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-gone',
      '',
    ].join('\n');
    const [res] = await applyPatchSets(tree, [patchSet(tree, 'docs', text)]);
    expect(res).toEqual({ name: 'docs', status: 'applied', files: ['doc/svc.txt', 'src/old.c'], strip: 1 });
    expect(readFileSync(path.join(tree, 'doc/svc.txt'), 'utf8')).toBe('svc -1 sends USR1\nsvc -2 sends USR2\n');
    expect(statSync(path.join(tree, 'doc/svc.txt')).mode & 0o777).toBe(0o644);
    expect(existsSync(path.join(tree, 'src/old.c'))).toBe(false);
    const [again] = await applyPatchSets(tree, [patchSet(tree, 'docs', text)]);
    expect(again!.status).toBe('already-applied');
  });

  it('a set patched in some files but not others is refused as partly applied', async () => {
    const tree = makeTree({ 'src/one.c': 'a\nB\nc\n', 'src/two.c': 'x\ny\n' });
    const text = changeOne + ['--- a/src/two.c', '+++ b/src/two.c', '@@ -1,2 +1,2 @@', ' x', '-y', '+Y', ''].join('\n');
    const err = await rejection(applyPatchSets(tree, [patchSet(tree, 'mixed', text)]));
    expect(err.code).toBe('E_PATCH');
    expect(err.message).toBe('patch mixed: partly applied already: src/one.c already patched, src/two.c not');
    expect(readFileSync(path.join(tree, 'src/two.c'), 'utf8')).toBe('x\ny\n');
  });

  describe('patch-path-escape-refused', () => {
    const escapes: Array<[string, string, RegExp]> = [
      ['.. in the path', '../../outside.txt', /climbs out with \.\./],
      ['.. after the prefix', 'src/../../../outside.txt', /climbs out with \.\./],
      ['absolute path', '/tmp/outside.txt', /refusing absolute path/],
    ];
    for (const [what, target, why] of escapes) {
      it(`refuses ${what} and writes nothing`, async () => {
        const tree = makeTree({ 'src/one.c': 'a\nb\nc\n' });
        const text = changeOne + ['--- /dev/null', `+++ ${target}`, '@@ -0,0 +1 @@', '+pwned', ''].join('\n');
        const set = patchSet(tree, 'evil', text);
        const before = snapshot(path.dirname(path.dirname(tree)));
        const err = await rejection(applyPatchSets(tree, [set]));
        expect(err.code).toBe('E_PATCH');
        expect(err.message).toMatch(/^patch evil: /);
        expect(err.message).toMatch(why);
        expect(snapshot(path.dirname(path.dirname(tree)))).toEqual(before);
      });
    }

    it('refuses to write through a symlinked directory that leads outside the tree', async () => {
      const tree = makeTree({ 'src/one.c': 'a\nb\nc\n' });
      const outside = tempDir('djbpkg-outside-');
      writeFileSync(path.join(outside, 'victim.c'), 'a\nb\nc\n');
      symlinkSync(outside, path.join(tree, 'linked'));
      const text = ['--- a/linked/victim.c', '+++ b/linked/victim.c', '@@ -1,3 +1,3 @@', ' a', '-b', '+B', ' c', ''].join('\n');
      const err = await rejection(applyPatchSets(tree, [patchSet(tree, 'evil', text)]));
      expect(err.code).toBe('E_PATCH');
      expect(err.message).toMatch(/linked\/victim\.c: its directory leads outside/);
      expect(readFileSync(path.join(outside, 'victim.c'), 'utf8')).toBe('a\nb\nc\n');
    });

    it('refuses to patch a file that is itself a symlink', async () => {
      const tree = makeTree({ 'src/one.c': 'a\nb\nc\n' });
      const outside = tempDir('djbpkg-outside-');
      writeFileSync(path.join(outside, 'victim.c'), 'a\nb\nc\n');
      symlinkSync(path.join(outside, 'victim.c'), path.join(tree, 'src/two.c'));
      const text = ['--- a/src/two.c', '+++ b/src/two.c', '@@ -1,3 +1,3 @@', ' a', '-b', '+B', ' c', ''].join('\n');
      const err = await rejection(applyPatchSets(tree, [patchSet(tree, 'evil', text)]));
      expect(err.message).toBe('patch evil: refusing src/two.c: not a regular file');
      expect(readFileSync(path.join(outside, 'victim.c'), 'utf8')).toBe('a\nb\nc\n');
    });
  });

  it('a missing patch file is a permanent E_PATCH naming it', async () => {
    const tree = makeTree({ 'src/one.c': 'a\n' });
    const err = await rejection(applyPatchSets(tree, [{ name: 'ghost', file: path.join(tree, 'no-such.patch') }]));
    expect(err.code).toBe('E_PATCH');
    expect(err.message).toMatch(/^patch ghost: unable to read .*no-such\.patch: ENOENT$/);
  });
});
