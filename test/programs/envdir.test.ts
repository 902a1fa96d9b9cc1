import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { ENV, ours, runTo, theirs } from '../support/loaders.js';
import { itNeeds } from '../support/needs.js';

/** Prints the environment as NAME=VALUE records ending in NUL, so values with newlines stay whole. */
const DUMP = ['sh', '-c', 'for v in A B C E N T KEEP GONE; do eval "s=\\${$v+set}"; if [ "$s" = set ]; then eval "printf \'%s=[%s]\\n\' $v \\"\\$$v\\""; else echo "$v unset"; fi; done'];

function edgeDir(): string {
  const d = path.join(tempDir(), 'env');
  mkdirSync(d);
  writeFileSync(path.join(d, 'A'), 'first line  \t \nsecond line\n'); // trailing blanks dropped, first line only
  writeFileSync(path.join(d, 'B'), '  leading kept'); // no newline at all
  writeFileSync(path.join(d, 'E'), '\n'); // just a newline: set, empty
  writeFileSync(path.join(d, 'GONE'), ''); // empty file: removed
  writeFileSync(path.join(d, 'N'), 'a\0b\0'); // NULs become newlines
  writeFileSync(path.join(d, 'T'), 'tab\t'); // trailing tab dropped
  writeFileSync(path.join(d, '.hidden'), 'x\n'); // dot files skipped
  return d;
}

describe('envdir', () => {
  it('applies 0.76 rules: first line, trailing blanks, NUL→newline, empty removes, "\\n" sets empty, dot files skipped', async () => {
    const d = edgeDir();
    const r = await runTo([...ours('envdir'), d, ...DUMP], { env: { ...ENV, GONE: 'was here', KEEP: 'kept', C: 'old' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      ['A=[first line]', 'B=[  leading kept]', 'C=[old]', 'E=[]', 'N=[a\nb\n]', 'T=[tab]', 'KEEP=[kept]', 'GONE unset', ''].join('\n'),
    );
  });

  it('a dangling symlink removes the variable (0.76 would reuse a neighbour\'s value)', async () => {
    const d = path.join(tempDir(), 'env');
    mkdirSync(d);
    symlinkSync(path.join(d, 'nowhere'), path.join(d, 'GONE'));
    const r = await runTo([...ours('envdir'), d, ...DUMP], { env: { ...ENV, GONE: 'x' } });
    expect(r.stdout).toContain('GONE unset\n');
  });

  it('refuses a file whose name contains `=`', async () => {
    const d = path.join(tempDir(), 'env');
    mkdirSync(d);
    writeFileSync(path.join(d, 'X=Y'), 'v\n');
    const r = await runTo([...ours('envdir'), d, 'true']);
    expect(r.stderr).toBe(`envdir: fatal: unable to read ${d}/X=Y: invalid argument\n`);
    expect(r.code).toBe(111);
  });

  it('messages and exit codes: usage 111, missing dir, subdirectory entry', async () => {
    for (const args of [[], ['dir']]) {
      const r = await runTo([...ours('envdir'), ...args]);
      expect(r.stderr).toBe('envdir: usage: envdir dir child\n');
      expect(r.code).toBe(111);
    }
    const base = tempDir();
    const missing = await runTo([...ours('envdir'), path.join(base, 'nope'), 'true']);
    expect(missing.stderr).toBe(`envdir: fatal: unable to switch to directory ${path.join(base, 'nope')}: file does not exist\n`);
    expect(missing.code).toBe(111);
    mkdirSync(path.join(base, 'env', 'SUB'), { recursive: true });
    const sub = await runTo([...ours('envdir'), path.join(base, 'env'), 'true']);
    expect(sub.stderr).toBe(`envdir: fatal: unable to read ${path.join(base, 'env')}/SUB: is a directory\n`);
    expect(sub.code).toBe(111);
  });

  it('searches the child in the PATH envdir was started with, not one the directory sets', async () => {
    const base = tempDir();
    mkdirSync(path.join(base, 'env'));
    writeFileSync(path.join(base, 'env', 'PATH'), '/nonexistent\n');
    const r = await runTo([...ours('envdir'), path.join(base, 'env'), 'sh', '-c', 'echo "$PATH"']);
    expect(r.stdout).toBe('/nonexistent\n');
    expect(r.code).toBe(0);
  });

  const c = theirs('envdir');
  itNeeds(c, 'needs C envdir (Debian daemontools)')('gives the same environment, in the same order, as C envdir (Debian daemontools)', async () => {
    const d = edgeDir();
    writeFileSync(path.join(d, 'PATH'), '/usr/bin:/bin\n');
    writeFileSync(path.join(d, 'HOME'), '');
    const env = { ...ENV, GONE: 'x', KEEP: 'k', C: 'c', Z: 'last' };
    const mine = await runTo([...ours('envdir'), d, 'env', '-0'], { env });
    const theirsOut = await runTo([...c!, d, 'env', '-0'], { env });
    expect(mine.stdout).toBe(theirsOut.stdout);
    expect(mine.code).toBe(theirsOut.code);
    for (const args of [[], [path.join(d, 'nope'), 'true'], [d, 'djbpkg-no-such-program']]) {
      const a = await runTo([...ours('envdir'), ...args], { env });
      const b = await runTo([...c!, ...args], { env });
      expect([a.stderr, a.code]).toEqual([b.stderr, b.code]);
    }
  });
  if (!c) it.skip('differential against C envdir: /usr/bin/envdir not installed', () => {});
});
