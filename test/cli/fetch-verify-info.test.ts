import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startProxy, startServer } from '../support/http.js';
import { versionOf, writeRecipe } from '../support/recipe.js';
import { djbpkg } from '../support/run.js';
import type { Tarball } from '../support/tarball.js';
import { buildTarball } from '../support/tarball.js';
import { tempDir } from '../support/tmp.js';

interface Setup {
  tb: Tarball;
  root: string;
  recipes: string;
  dist: string;
}

/** A root, a local recipe for `daemontools` pinning a tarball built here, and where the cache must land. */
async function setup(urls: string[], extra: Record<string, unknown> = {}): Promise<Setup> {
  const work = tempDir();
  const tb = await buildTarball(path.join(work, 'build'), 'daemontools-0.76.tar.gz', {
    'admin/daemontools-0.76/package/install': { content: '#!/bin/sh\n', mode: 0o755 },
    'admin/daemontools-0.76/src/blob': randomBytes(50_000),
  });
  const recipes = path.join(work, 'recipes');
  writeRecipe(recipes, { name: 'daemontools', versions: { '0.76': versionOf(tb, urls, extra) } });
  const root = path.join(work, 'root');
  mkdirSync(root);
  return { tb, root, recipes, dist: path.join(root, 'usr/local/djb/dist') };
}

const noStack = (stderr: string): void => expect(stderr).not.toMatch(/\n\s+at /);

describe('djbpkg fetch', () => {
  it('fetches from a --mirror into ROOT/usr/local/djb/dist and prints the contract JSON', async () => {
    const srv = await startServer();
    const s = await setup(['http://127.0.0.1:9/unreachable.tar.gz']);
    srv.route('/daemontools-0.76.tar.gz', { kind: 'file', body: s.tb.bytes });
    const r = await djbpkg(['fetch', 'daemontools', '--mirror', `${srv.url}/`, '--root', s.root, '--recipes', s.recipes, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['name', 'version', 'distfile', 'path', 'size', 'md5', 'sha256', 'source']);
    expect(doc).toEqual({
      name: 'daemontools',
      version: '0.76',
      distfile: 'daemontools-0.76.tar.gz',
      path: path.join(s.dist, 'daemontools-0.76.tar.gz'),
      size: s.tb.size,
      md5: s.tb.md5,
      sha256: s.tb.sha256,
      source: `${srv.url}/daemontools-0.76.tar.gz`,
    });
    expect(readFileSync(path.join(s.dist, 'daemontools-0.76.tar.gz')).equals(s.tb.bytes)).toBe(true);

    const again = await djbpkg(['fetch', 'daemontools@^0.76', '--root', s.root, '--recipes', s.recipes, '--json', '--offline']);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { source: string }).source).toBe('cache');
    expect(srv.count()).toBe(1);
  });

  it('honours --distfiles and reports each failed source in one line before succeeding', async () => {
    const srv = await startServer();
    const s = await setup([`${srv.url}/upstream/daemontools-0.76.tar.gz`]);
    srv.route('/ok/daemontools-0.76.tar.gz', { kind: 'file', body: s.tb.bytes });
    writeRecipe(s.recipes, { name: 'daemontools', versions: { '0.76': versionOf(s.tb, [`${srv.url}/gone/daemontools-0.76.tar.gz`, `${srv.url}/ok/daemontools-0.76.tar.gz`]) } });
    const dist = path.join(tempDir(), 'cache');
    const r = await djbpkg(['fetch', 'daemontools', '--recipes', s.recipes, '--distfiles', dist, '--root', s.root]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`djbpkg: warning: ${srv.url}/gone/daemontools-0.76.tar.gz: HTTP 404 Not Found\n`);
    expect(r.stdout).toContain(`from ${srv.url}/ok/daemontools-0.76.tar.gz`);
    expect(existsSync(path.join(dist, 'daemontools-0.76.tar.gz'))).toBe(true);
    expect(existsSync(s.dist)).toBe(false);
  });

  it('exits 100, deletes the file and names the digests when the bytes are wrong', async () => {
    const srv = await startServer();
    const s = await setup([`${srv.url}/upstream/daemontools-0.76.tar.gz`]);
    const evil = Buffer.from(s.tb.bytes);
    evil[200] ^= 1;
    srv.route('/daemontools-0.76.tar.gz', { kind: 'file', body: evil });
    const r = await djbpkg(['fetch', 'daemontools', '--mirror', srv.url, '--root', s.root, '--recipes', s.recipes]);
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/^djbpkg: fatal: daemontools-0\.76\.tar\.gz from .* has been altered or corrupted: MD5 expected [0-9a-f]{32}, got [0-9a-f]{32}; SHA-256 expected/m);
    expect(r.stderr).toContain(s.tb.sha256);
    noStack(r.stderr);
    expect(existsSync(path.join(s.dist, 'daemontools-0.76.tar.gz'))).toBe(false);
    expect(existsSync(path.join(s.dist, 'daemontools-0.76.tar.gz.part'))).toBe(false);
  });

  it('exits 111 with one line per source when every source fails, and removes the unresumable .part', async () => {
    const srv = await startServer();
    const s = await setup([`${srv.url}/upstream/daemontools-0.76.tar.gz`]);
    srv.route('/a/daemontools-0.76.tar.gz', { kind: 'cut', body: s.tb.bytes, after: 1000, ranges: false });
    const r = await djbpkg(['fetch', 'daemontools', '--mirror', `${srv.url}/a`, '--mirror', `${srv.url}/b`, '--root', s.root, '--recipes', s.recipes]);
    expect(r.code).toBe(111);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`djbpkg: warning: ${srv.url}/a/daemontools-0.76.tar.gz: connection closed before the whole file arrived`);
    expect(lines[1]).toBe(`djbpkg: warning: ${srv.url}/b/daemontools-0.76.tar.gz: HTTP 404 Not Found`);
    expect(lines[2]).toBe(`djbpkg: warning: ${srv.url}/upstream/daemontools-0.76.tar.gz: HTTP 404 Not Found`);
    expect(lines[3]).toBe('djbpkg: fatal: unable to fetch daemontools-0.76.tar.gz: all 3 sources failed');
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatch(/^djbpkg: hint: /);
    expect(existsSync(path.join(s.dist, 'daemontools-0.76.tar.gz.part'))).toBe(false);
  });

  it('--offline without a cached copy fails with 100 and makes no request', async () => {
    const srv = await startServer();
    const s = await setup([`${srv.url}/upstream/daemontools-0.76.tar.gz`]);
    srv.route('/daemontools-0.76.tar.gz', { kind: 'file', body: s.tb.bytes });
    const r = await djbpkg(['fetch', 'daemontools', '--offline', '--mirror', srv.url, '--root', s.root, '--recipes', s.recipes]);
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/^djbpkg: fatal: daemontools-0\.76\.tar\.gz is not in the download cache .* --offline/);
    expect(srv.count()).toBe(0);
  });

  it('uses HTTP_PROXY from the environment', async () => {
    const srv = await startServer();
    const proxy = await startProxy();
    const s = await setup([`${srv.url}/upstream/daemontools-0.76.tar.gz`]);
    srv.route('/daemontools-0.76.tar.gz', { kind: 'file', body: s.tb.bytes });
    const r = await djbpkg(['fetch', 'daemontools', '--mirror', srv.url, '--root', s.root, '--recipes', s.recipes], {
      env: { HTTP_PROXY: proxy.url },
    });
    expect(r.code).toBe(0);
    expect(proxy.requests).toEqual([`${srv.url}/daemontools-0.76.tar.gz`]);
  });

  it('warns that MD5 alone is weak when the recipe pins no SHA-256', async () => {
    const srv = await startServer();
    const s = await setup([`${srv.url}/upstream/daemontools-0.76.tar.gz`]);
    writeRecipe(s.recipes, { name: 'daemontools', versions: { '0.76': versionOf(s.tb, [`${srv.url}/daemontools-0.76.tar.gz`], { sha256: undefined }) } });
    srv.route('/daemontools-0.76.tar.gz', { kind: 'file', body: s.tb.bytes });
    const r = await djbpkg(['fetch', 'daemontools', '--root', s.root, '--recipes', s.recipes, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^djbpkg: warning: .*pins no SHA-256; MD5 alone is weak/);
    expect((JSON.parse(r.stdout) as { sha256: string }).sha256).toBe(s.tb.sha256);
  });

  it('rejects an unknown package listing known ones, and a bad range, each in one line with exit 100', async () => {
    const s = await setup(['http://127.0.0.1:9/daemontools-0.76.tar.gz']);
    const unknown = await djbpkg(['fetch', 'nosuchthing', '--root', s.root, '--recipes', s.recipes]);
    expect(unknown.code).toBe(100);
    expect(unknown.stderr).toBe('djbpkg: fatal: unknown package nosuchthing\ndjbpkg: hint: known packages: daemontools, djbdns, ucspi-tcp\n');
    const range = await djbpkg(['fetch', 'daemontools@~~1', '--root', s.root, '--recipes', s.recipes]);
    expect(range.code).toBe(100);
    expect(range.stderr.split('\n')[0]).toBe('djbpkg: fatal: daemontools@~~1: invalid version range "~~1"');
    const none = await djbpkg(['fetch', 'daemontools@>=1', '--root', s.root, '--recipes', s.recipes]);
    expect(none.code).toBe(100);
    expect(none.stderr).toBe('djbpkg: fatal: daemontools@>=1: no version matches (known: 0.76)\n');
  });

  it('names the recipe file and field for a malformed recipe and for a missing md5', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'daemontools.json'), '{"name": "daemontools",,}');
    const bad = await djbpkg(['fetch', 'daemontools', '--recipes', dir, '--root', dir]);
    expect(bad.code).toBe(100);
    expect(bad.stderr).toMatch(new RegExp(`^djbpkg: fatal: ${path.join(dir, 'daemontools.json')}: \\(JSON\\): not valid JSON`));
    noStack(bad.stderr);
    const s = await setup(['http://127.0.0.1:9/daemontools-0.76.tar.gz']);
    const file = writeRecipe(s.recipes, { name: 'daemontools', versions: { '0.76': versionOf(s.tb, ['http://127.0.0.1:9/x'], { md5: undefined }) } });
    const nomd5 = await djbpkg(['fetch', 'daemontools', '--recipes', s.recipes, '--root', s.root]);
    expect(nomd5.code).toBe(100);
    expect(nomd5.stderr).toBe(`djbpkg: fatal: ${file}: versions.0.76.md5: missing\n`);
  });
});

describe('djbpkg verify', () => {
  it('verifies a FILE matched to its recipe by name, printing expected and actual values', async () => {
    const s = await setup(['http://127.0.0.1:9/daemontools-0.76.tar.gz']);
    const r = await djbpkg(['verify', s.tb.path, '--recipes', s.recipes, '--root', s.root]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const v of [String(s.tb.size), s.tb.md5, s.tb.sha256]) {
      expect(r.stdout).toContain(`expected ${v}`);
      expect(r.stdout).toContain(`actual   ${v}  ok`);
    }
    expect(r.stdout.trimEnd().endsWith('ok')).toBe(true);
  });

  it('fails a FILE with other bytes: exit 100, MISMATCH lines, the file left alone', async () => {
    const s = await setup(['http://127.0.0.1:9/daemontools-0.76.tar.gz']);
    const copy = path.join(tempDir(), 'daemontools-0.76.tar.gz');
    writeFileSync(copy, Buffer.concat([s.tb.bytes, Buffer.from('x')]));
    const r = await djbpkg(['verify', copy, '--recipes', s.recipes, '--root', s.root]);
    expect(r.code).toBe(100);
    expect(r.stdout).toContain('MISMATCH');
    expect(r.stderr).toMatch(new RegExp(`^djbpkg: fatal: ${copy} has been altered or corrupted: size expected ${s.tb.size}, got ${s.tb.size + 1}; MD5 expected ${s.tb.md5}`));
    expect(existsSync(copy)).toBe(true);
    const json = await djbpkg(['verify', copy, '--recipes', s.recipes, '--root', s.root, '--json']);
    expect(json.code).toBe(100);
    const doc = JSON.parse(json.stdout) as { ok: boolean; distfile: { checks: { what: string; ok: boolean }[] } };
    expect(doc.ok).toBe(false);
    expect(doc.distfile.checks.map((c) => [c.what, c.ok])).toEqual([
      ['size', false],
      ['md5', false],
      ['sha256', false],
    ]);
  });

  it('verifies the cached distfile of NAME and says when it is not cached', async () => {
    const srv = await startServer();
    const s = await setup([`${srv.url}/upstream/daemontools-0.76.tar.gz`]);
    const missing = await djbpkg(['verify', 'daemontools', '--recipes', s.recipes, '--root', s.root]);
    expect(missing.code).toBe(100);
    expect(missing.stderr).toContain('djbpkg fetch daemontools@0.76');
    srv.route('/daemontools-0.76.tar.gz', { kind: 'file', body: s.tb.bytes });
    expect((await djbpkg(['fetch', 'daemontools', '--mirror', srv.url, '--recipes', s.recipes, '--root', s.root])).code).toBe(0);
    const ok = await djbpkg(['verify', 'daemontools@0.76', '--recipes', s.recipes, '--root', s.root, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name: 'daemontools', version: '0.76', ok: true, distfile: { ok: true, path: path.join(s.dist, 'daemontools-0.76.tar.gz') } });
  });

  it('says no recipe knows a FILE with an unknown name', async () => {
    const s = await setup(['http://127.0.0.1:9/daemontools-0.76.tar.gz']);
    const other = path.join(tempDir(), 'other-1.0.tar.gz');
    writeFileSync(other, 'x');
    const r = await djbpkg(['verify', other, '--recipes', s.recipes, '--root', s.root]);
    expect(r.code).toBe(100);
    expect(r.stderr.split('\n')[0]).toBe('djbpkg: fatal: no recipe has a distfile named other-1.0.tar.gz');
  });
});

describe('djbpkg info', () => {
  it('shows versions, sources (mirrors first), digests, patch sets with descriptions and build type', async () => {
    const s = await setup(['http://upstream.invalid/daemontools-0.76.tar.gz'], {
      patches: { errno: { file: '../patches/errno.patch', default: true }, sigq12: { file: '../patches/sigq12.patch', default: false } },
    });
    const patches = path.join(path.dirname(s.recipes), 'patches');
    mkdirSync(patches);
    writeFileSync(path.join(patches, 'errno.patch'), '\n# Declare errno through <errno.h>\n--- a/src/error.h\n+++ b/src/error.h\n');
    const r = await djbpkg(['info', 'daemontools', '--recipes', s.recipes, '--root', s.root, '--mirror', 'http://mirror.invalid/d']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).toContain('daemontools (category admin)');
    expect(out).toContain('versions  0.76');
    expect(out).toContain(`MD5       ${s.tb.md5}`);
    expect(out).toContain(`SHA-256   ${s.tb.sha256}`);
    expect(out).toContain('build     slashpackage');
    expect(out.indexOf('http://mirror.invalid/d/daemontools-0.76.tar.gz')).toBeLessThan(out.indexOf('http://upstream.invalid/daemontools-0.76.tar.gz'));
    expect(out).toMatch(/errno\s+on\s+Declare errno through <errno\.h>/);
    expect(out).toMatch(/sigq12\s+off\s+\(patch file missing: .*sigq12\.patch\)/);

    const json = await djbpkg(['info', 'daemontools', '--recipes', s.recipes, '--root', s.root, '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { name: string; versions: { version: string; md5: string; patches: { name: string; description: string | null; present: boolean }[] }[] };
    expect(doc.name).toBe('daemontools');
    expect(doc.versions[0]!.md5).toBe(s.tb.md5);
    expect(doc.versions[0]!.patches).toMatchObject([
      { name: 'errno', description: 'Declare errno through <errno.h>', present: true },
      { name: 'sigq12', description: null, present: false },
    ]);
  });

  it('works for the bundled daemontools recipe', async () => {
    const r = await djbpkg(['info', 'daemontools', '--json', '--root', tempDir()]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { versions: { version: string; size: number; md5: string; sources: string[] }[] };
    expect(doc.versions[0]).toMatchObject({ version: '0.76', size: 36975, md5: '1871af2453d6e464034968a0fbcb2bfc' });
    expect(doc.versions[0]!.sources[0]).toBe('http://cr.yp.to/daemontools/daemontools-0.76.tar.gz');
  });
});
