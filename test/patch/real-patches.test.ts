import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPatchSets } from '../../src/install/patch.js';
import { parsePatch, patchDescription, stripPath } from '../../src/patch/index.js';
import type { FilePatch } from '../../src/patch/index.js';
import { PROJECT } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

const PATCHES = path.join(PROJECT, 'patches');
const file = (name: string): string => path.join(PATCHES, `daemontools-0.76.${name}.patch`);
const text = (name: string): string => readFileSync(file(name), 'utf8');

/**
 * A tree holding, for each file a patch touches, only the old text of its
 * hunks placed at their stated lines (filler elsewhere): the least that the
 * real patch files must apply to.
 */
function syntheticTree(files: FilePatch[]): string {
  const dir = path.join(tempDir('djbpkg-real-patches-'), 'admin', 'daemontools-0.76');
  for (const f of files) {
    const lines: string[] = [];
    for (const h of f.hunks) {
      while (lines.length < h.oldStart - 1) lines.push(`/* filler ${lines.length + 1} */\n`);
      for (const l of h.lines) if (l.op !== 'add') lines.push(l.text);
    }
    lines.push('/* end */\n');
    const full = path.join(dir, stripPath(f.oldPath, 1)!);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, lines.join(''));
  }
  return dir;
}

describe('the shipped patch files', () => {
  it('start with a one-line description naming the set, then a header, before the diff', () => {
    for (const name of ['errno', 'sigq12']) {
      const t = text(name);
      expect(patchDescription(t)).toMatch(new RegExp(`^${name}: \\S`));
      const header = t.slice(0, t.indexOf('\n--- '));
      expect(header.split('\n').filter((l) => l.startsWith('#')).length).toBeGreaterThan(3);
    }
  });

  it('errno changes only src/error.h; sigq12 changes svc.c, supervise.c and rts.tests, all -p1 a/ b/', () => {
    const paths = (name: string): string[][] => parsePatch(text(name)).map((f) => [f.oldPath, f.newPath, f.change]);
    expect(paths('errno')).toEqual([['a/src/error.h', 'b/src/error.h', 'modify']]);
    expect(paths('sigq12')).toEqual([
      ['a/src/rts.tests', 'b/src/rts.tests', 'modify'],
      ['a/src/supervise.c', 'b/src/supervise.c', 'modify'],
      ['a/src/svc.c', 'b/src/svc.c', 'modify'],
    ]);
  });

  it('apply together to the lines they touch, then report already-applied', async () => {
    const files = [...parsePatch(text('errno')), ...parsePatch(text('sigq12'))];
    const tree = syntheticTree(files);
    const sets = [
      { name: 'errno', file: file('errno') },
      { name: 'sigq12', file: file('sigq12') },
    ];
    const first = await applyPatchSets(tree, sets);
    expect(first.map((r) => [r.name, r.status, r.strip])).toEqual([
      ['errno', 'applied', 1],
      ['sigq12', 'applied', 1],
    ]);
    const read = (rel: string): string => readFileSync(path.join(tree, rel), 'utf8');
    expect(read('src/error.h')).toContain('#include <errno.h>\n');
    expect(read('src/error.h')).not.toContain('extern int errno;');
    expect(read('src/svc.c')).toContain('getopt(argc,argv,"udopchaitkxq12")');
    expect(read('src/svc.c')).toContain('k kill, q quit, 1 usr1, 2 usr2");');
    for (const [byte, sig] of [['q', 'SIGQUIT'], ['1', 'SIGUSR1'], ['2', 'SIGUSR2']]) {
      expect(read('src/supervise.c')).toContain(`\tcase '${byte}':\n\t  if (pid) kill(pid,${sig});\n\t  break;\n`);
    }
    const second = await applyPatchSets(tree, sets);
    expect(second.map((r) => r.status)).toEqual(['already-applied', 'already-applied']);
  });
});
