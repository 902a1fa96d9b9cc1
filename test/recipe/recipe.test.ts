import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledRecipesDir, describePatchText, listRecipes, resolveAllVersions, resolveRecipe } from '../../src/recipe/index.js';
import { writeRecipe } from '../support/recipe.js';
import { tempDir } from '../support/tmp.js';
import { failure } from '../support/errors.js';

const MD5 = 'a'.repeat(32);
const SHA = 'b'.repeat(64);

function version(distfile: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { distfile, urls: [`http://127.0.0.1:9/${distfile}`], size: 10, md5: MD5, sha256: SHA, build: 'slashpackage', ...extra };
}

describe('recipe resolution', () => {
  it('picks the newest version for a bare name and honours exact, caret and >= ranges over coerced versions', async () => {
    const dir = tempDir();
    writeRecipe(dir, { name: 'multi', versions: { '0.70': version('multi-0.70.tar.gz'), '0.76': version('multi-0.76.tar.gz'), '1.2': version('multi-1.2.tar.gz') } });
    expect((await resolveRecipe('multi', [dir])).version).toBe('1.2');
    expect((await resolveRecipe('multi@0.76', [dir])).version).toBe('0.76');
    expect((await resolveRecipe('multi@^0.70', [dir])).version).toBe('0.70');
    expect((await resolveRecipe('multi@>=0.70', [dir])).version).toBe('1.2');
    expect((await resolveRecipe('multi@<1', [dir])).version).toBe('0.76');
    expect((await resolveRecipe('multi@^0.76', [dir])).distfile).toBe('multi-0.76.tar.gz');
    expect((await resolveAllVersions('multi', [dir])).map((r) => r.version)).toEqual(['1.2', '0.76', '0.70']);
  });

  it('says which versions exist when none matches, and rejects a malformed range clearly', async () => {
    const dir = tempDir();
    writeRecipe(dir, { name: 'multi', versions: { '0.76': version('multi-0.76.tar.gz') } });
    const none = await failure(resolveRecipe('multi@^2', [dir]));
    expect(none.code).toBe('E_NO_VERSION');
    expect(none.message).toContain('0.76');
    const bad = await failure(resolveRecipe('multi@not a range!', [dir]));
    expect(bad.code).toBe('E_USAGE');
    expect(bad.exitCode).toBe(100);
    expect(bad.message).toMatch(/invalid version range/);
    expect((await failure(resolveRecipe('multi@', [dir]))).code).toBe('E_USAGE');
  });

  it('lists the known names for an unknown package', async () => {
    const dir = tempDir();
    writeRecipe(dir, { name: 'alpha', versions: { '1.0': version('alpha-1.0.tar.gz') } });
    const err = await failure(resolveRecipe('nosuch', [dir]));
    expect(err.code).toBe('E_UNKNOWN_PACKAGE');
    expect(err.hint).toContain('alpha');
    expect(err.hint).toContain('daemontools');
  });

  it('searches --recipes directories before the bundled recipes', async () => {
    const dir = tempDir();
    writeRecipe(dir, { name: 'daemontools', versions: { '9.9': version('daemontools-9.9.tar.gz') } });
    const r = await resolveRecipe('daemontools', [dir]);
    expect(r.version).toBe('9.9');
    expect(r.recipeFile).toBe(path.join(dir, 'daemontools.json'));
    const listed = await listRecipes([dir]);
    expect(listed.find((s) => s.name === 'daemontools')?.recipeFile).toBe(path.join(dir, 'daemontools.json'));
  });

  it('loads the bundled daemontools recipe with the published digests and patch sets in order', async () => {
    const r = await resolveRecipe('daemontools@^0.76', []);
    expect(r.recipeFile).toBe(path.join(bundledRecipesDir(), 'daemontools.json'));
    expect(r).toMatchObject({
      name: 'daemontools',
      category: 'admin',
      version: '0.76',
      distfile: 'daemontools-0.76.tar.gz',
      size: 36975,
      md5: '1871af2453d6e464034968a0fbcb2bfc',
      sha256: 'a55535012b2be7a52dcd9eccabb9a198b13be50d0384143bd3b32b8710df4c1f',
      build: 'slashpackage',
    });
    expect(r.urls[0]).toBe('http://cr.yp.to/daemontools/daemontools-0.76.tar.gz');
    expect(r.urls.length).toBeGreaterThanOrEqual(3);
    expect(r.patches.map((p) => [p.name, p.default])).toEqual([
      ['errno', true],
      ['sigq12', false],
    ]);
    expect(r.patches[0]!.file).toBe(path.resolve(bundledRecipesDir(), '../patches/daemontools-0.76.errno.patch'));
  });
});

describe('recipe validation', () => {
  it('names the file and the field when md5 is missing', async () => {
    const dir = tempDir();
    const v = version('nomd5-1.0.tar.gz');
    delete v.md5;
    const file = writeRecipe(dir, { name: 'nomd5', versions: { '1.0': v } });
    const err = await failure(resolveRecipe('nomd5', [dir]));
    expect(err.code).toBe('E_RECIPE');
    expect(err.message).toBe(`${file}: versions.1.0.md5: missing`);
  });

  it('names the file for malformed JSON', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{ "name": "broken", ');
    const err = await failure(resolveRecipe('broken', [dir]));
    expect(err.code).toBe('E_RECIPE');
    expect(err.message.startsWith(`${file}: (JSON): not valid JSON`)).toBe(true);
  });

  it('rejects bad digests, unknown fields, unsafe distfile names and a name that differs from the file name', async () => {
    const dir = tempDir();
    const cases: [string, Record<string, unknown>, string][] = [
      ['badmd5', { '1.0': version('x.tar.gz', { md5: 'XYZ' }) }, 'versions.1.0.md5: bad value'],
      ['badsha', { '1.0': version('x.tar.gz', { sha256: 'abc' }) }, 'versions.1.0.sha256: bad value'],
      ['extra', { '1.0': version('x.tar.gz', { colour: 'red' }) }, 'versions.1.0.colour: unknown field'],
      ['escape', { '1.0': version('../x.tar.gz') }, 'versions.1.0.distfile: bad value'],
      ['badsize', { '1.0': version('x.tar.gz', { size: 'big' }) }, 'versions.1.0.size: must be integer'],
      ['nourls', { '1.0': version('x.tar.gz', { urls: [] }) }, 'versions.1.0.urls:'],
      ['badpatch', { '1.0': version('x.tar.gz', { patches: { p: { file: 'p.patch' } } }) }, 'versions.1.0.patches.p.default: missing'],
    ];
    for (const [name, versions, expected] of cases) {
      const file = writeRecipe(dir, { name, versions });
      const err = await failure(resolveRecipe(name, [dir]));
      expect(err.message, name).toContain(`${file}: ${expected}`);
    }
    const file = writeRecipe(dir, { name: 'other', versions: { '1.0': version('x.tar.gz') } });
    writeFileSync(path.join(dir, 'renamed.json'), JSON.stringify({ name: 'other', category: 'admin', versions: { '1.0': version('x.tar.gz') } }));
    expect(file).toContain('other.json');
    expect((await failure(resolveRecipe('renamed', [dir]))).message).toContain('renamed.json: name:');
  });

  it('accepts a recipe without size and sha256 (MD5 is what upstream publishes)', async () => {
    const dir = tempDir();
    writeRecipe(dir, { name: 'md5only', versions: { '1.0': { distfile: 'md5only-1.0.tar.gz', urls: ['http://127.0.0.1:9/x'], md5: MD5, build: 'slashpackage' } } });
    const r = await resolveRecipe('md5only', [dir]);
    expect(r.size).toBeUndefined();
    expect(r.sha256).toBeUndefined();
  });
});

describe('patch set descriptions', () => {
  it('takes the first non-empty line before the first --- line, without "# "', async () => {
    expect(describePatchText('\n# Fix errno declaration for modern libc\n# more\n--- a/x\n+++ b/x\n')).toBe('Fix errno declaration for modern libc');
    expect(describePatchText('Plain header line\n--- a/x\n')).toBe('Plain header line');
    expect(describePatchText('--- a/x\n+++ b/x\n# not a header\n')).toBeUndefined();
  });

  it('fills description from the patch file and leaves it undefined when the file is missing', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'patches'));
    writeFileSync(path.join(dir, 'patches', 'one.patch'), '# Adds the one feature\n--- a/f\n+++ b/f\n');
    const recipes = path.join(dir, 'recipes');
    writeRecipe(recipes, {
      name: 'patched',
      versions: {
        '1.0': version('patched-1.0.tar.gz', {
          patches: { one: { file: '../patches/one.patch', default: true }, two: { file: '../patches/two.patch', default: false } },
        }),
      },
    });
    const r = await resolveRecipe('patched', [recipes]);
    expect(r.patches).toEqual([
      { name: 'one', file: path.join(dir, 'patches', 'one.patch'), default: true, description: 'Adds the one feature', present: true },
      { name: 'two', file: path.join(dir, 'patches', 'two.patch'), default: false, description: undefined, present: false },
    ]);
  });
});
