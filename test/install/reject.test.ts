import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { manageFixture } from '../support/fixture.js';
import { djbpkg } from '../support/run.js';
import type { RunResult } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { shellQuote } from '../../src/core/root.js';

/**
 * A distfile the admin placed by hand is never deleted: one that fails
 * verification is moved aside, and when only the recipe's MD5 disagrees
 * (size and SHA-256 match), the message says the recipe may be wrong.
 */

const WRONG_MD5 = '0123456789abcdef0123456789abcdef';

/** The fixture's good tarball, and a recipe dir whose daemontools recipe pins a wrong MD5 (size and SHA-256 right). */
async function wrongMd5(): Promise<{ root: string; tarball: Buffer; recipes: string; recipeFile: string }> {
  const f = await manageFixture();
  const dist = tempDir('djbpkg-good-');
  const got = await f.run(['fetch', 'daemontools', '--distfiles', dist]);
  expect(got.code, got.stderr).toBe(0);
  const tarball = readFileSync(path.join(dist, 'daemontools-0.76.tar.gz'));
  const recipeFile = path.join(f.recipes, 'daemontools.json');
  const recipe = JSON.parse(readFileSync(recipeFile, 'utf8')) as { versions: Record<string, { md5: string }> };
  recipe.versions['0.76']!.md5 = WRONG_MD5;
  writeFileSync(recipeFile, JSON.stringify(recipe));
  return { root: f.root, tarball, recipes: f.recipes, recipeFile };
}

function expectMovedAside(r: RunResult, file: string, aside: string, recipeFile: string): void {
  expect(r.code, r.stderr).toBe(100);
  const [fatal, hint] = r.stderr.trim().split('\n');
  expect(fatal).toBe(`djbpkg: fatal: the cached ${file} does not match the recipe (MD5: recipe ${WRONG_MD5}, file ${/file ([0-9a-f]{32})\)/.exec(fatal!)?.[1]}); moved it aside to ${aside}; --offline forbids fetching it again`);
  expect(hint).toContain(`djbpkg: hint: its size and SHA-256 match the recipe, only MD5 differs: the recipe's MD5 in ${recipeFile} may be wrong`);
  expect(hint).toContain(`then put the file back: mv ${shellQuote(aside)} ${shellQuote(file)}`);
}

describe('a distfile that fails verification is moved aside, never deleted', { timeout: 60_000 }, () => {
  it('wrong-md5-cache: a hand-placed tarball in ROOT\'s cache survives an install --offline with a wrong-MD5 recipe', async () => {
    const w = await wrongMd5();
    const cache = path.join(w.root, 'usr/local/djb/dist');
    mkdirSync(cache, { recursive: true });
    const file = path.join(cache, 'daemontools-0.76.tar.gz');
    writeFileSync(file, w.tarball);
    const r = await djbpkg(['install', 'daemontools', '--offline', '--root', w.root, '--recipes', w.recipes]);
    expectMovedAside(r, file, `${file}.rejected`, w.recipeFile);
    expect(readFileSync(`${file}.rejected`).equals(w.tarball)).toBe(true);
    expect(existsSync(path.join(w.root, 'package/admin/daemontools-0.76'))).toBe(false);
  });

  it('wrong-md5-distfiles: in a --distfiles directory too; an existing .rejected gets a numbered sibling, not overwritten', async () => {
    const w = await wrongMd5();
    const dir = path.join(tempDir('djbpkg-admin-'), 'my dist');
    mkdirSync(dir);
    const file = path.join(dir, 'daemontools-0.76.tar.gz');
    writeFileSync(file, w.tarball);
    writeFileSync(`${file}.rejected`, 'an older rejected copy');
    const r = await djbpkg(['install', 'daemontools', '--offline', '--root', w.root, '--recipes', w.recipes, '--distfiles', dir]);
    expectMovedAside(r, file, `${file}.rejected.1`, w.recipeFile);
    expect(readFileSync(`${file}.rejected.1`).equals(w.tarball)).toBe(true);
    expect(readFileSync(`${file}.rejected`, 'utf8')).toBe('an older rejected copy');
    // verify names the suspicion as well, on the file as it is.
    copyFileSync(`${file}.rejected.1`, file);
    const v = await djbpkg(['verify', 'daemontools', '--root', w.root, '--recipes', w.recipes, '--distfiles', dir]);
    expect(v.code).toBe(100);
    expect(v.stdout + v.stderr).toContain('though its size and SHA-256 do');
    expect(readFileSync(file).equals(w.tarball)).toBe(true);
  });
});
