/**
 * Writes local recipe files (for `--recipes DIR`) pinning the digests of
 * tarballs a test built, so tests never depend on the bundled recipes.
 *
 *     writeRecipe(dir, { name: 'demo', versions: { '1.0': versionOf(tb, ['http://127.0.0.1:1/demo-1.0.tar.gz']) } });
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Tarball } from './tarball.js';

export interface RecipeVersionFixture {
  distfile: string;
  urls: string[];
  size?: number;
  md5: string;
  sha256?: string;
  build: string;
  patches?: Record<string, { file: string; default: boolean }>;
}

/** A recipe version entry pinning the given tarball. */
export function versionOf(tb: Tarball, urls: string[], extra: Partial<RecipeVersionFixture> = {}): RecipeVersionFixture {
  return {
    distfile: path.basename(tb.path),
    urls,
    size: tb.size,
    md5: tb.md5,
    sha256: tb.sha256,
    build: 'slashpackage',
    ...extra,
  };
}

/** Writes `dir/NAME.json` (category `admin` unless given) and returns its path. */
export function writeRecipe(
  dir: string,
  recipe: { name: string; category?: string; versions: Record<string, RecipeVersionFixture> } | Record<string, unknown>,
): string {
  mkdirSync(dir, { recursive: true });
  const data: Record<string, unknown> = { category: 'admin', ...recipe };
  const file = path.join(dir, `${String(data.name)}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}
