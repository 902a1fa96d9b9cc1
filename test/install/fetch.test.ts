import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Output } from '../../src/core/io.js';
import { fetchDistfile } from '../../src/install/fetch.js';
import type { FetchOptions } from '../../src/install/fetch.js';
import { verifyFile } from '../../src/install/verify.js';
import { resolveRecipe } from '../../src/recipe/index.js';
import type { ResolvedRecipe } from '../../src/recipe/index.js';
import { startProxy, startServer } from '../support/http.js';
import { versionOf, writeRecipe } from '../support/recipe.js';
import type { Tarball } from '../support/tarball.js';
import { buildTarball } from '../support/tarball.js';
import { tempDir } from '../support/tmp.js';
import { failure } from '../support/errors.js';

/** A distfile big enough to be cut in the middle, with its recipe pinning it. */
async function fixture(urls: (name: string) => string[], extra: Record<string, unknown> = {}): Promise<{ tb: Tarball; recipe: ResolvedRecipe; dist: string; log: string[]; opts: FetchOptions }> {
  const work = tempDir();
  // Random bytes do not compress: the distfile stays big enough to cut mid-way.
  const filler = randomBytes(200_000);
  const tb = await buildTarball(path.join(work, 'build'), 'demo-1.0.tar.gz', {
    'admin/demo-1.0/package/install': { content: '#!/bin/sh\necho install\n', mode: 0o755 },
    'admin/demo-1.0/src/blob': filler,
  });
  const recipes = path.join(work, 'recipes');
  writeRecipe(recipes, { name: 'demo', versions: { '1.0': versionOf(tb, urls('demo-1.0.tar.gz'), extra) } });
  const recipe = await resolveRecipe('demo', [recipes]);
  const dist = path.join(work, 'root', 'usr', 'local', 'djb', 'dist');
  const log: string[] = [];
  return { tb, recipe, dist, log, opts: { distfiles: dist, mirrors: [], offline: false, env: {}, log: (l) => log.push(l) } };
}

describe('fetchDistfile', () => {
  it('downloads, verifies and stores <distfiles>/<distfile> with no .part left', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/dist/${n}`]);
    srv.route('/dist/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    const r = await fetchDistfile(f.recipe, f.opts);
    expect(r).toEqual({
      name: 'demo',
      version: '1.0',
      distfile: 'demo-1.0.tar.gz',
      path: path.join(f.dist, 'demo-1.0.tar.gz'),
      size: f.tb.size,
      md5: f.tb.md5,
      sha256: f.tb.sha256,
      source: `${srv.url}/dist/demo-1.0.tar.gz`,
    });
    expect(readFileSync(r.path).equals(f.tb.bytes)).toBe(true);
    expect(readdirSync(f.dist)).toEqual(['demo-1.0.tar.gz']);
    expect(srv.count()).toBe(1);
  });

  it('serves a verified cached copy without any request', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/${n}`]);
    srv.route('/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    await fetchDistfile(f.recipe, f.opts);
    expect(srv.count()).toBe(1);
    const again = await fetchDistfile(f.recipe, { ...f.opts, mirrors: [srv.url] });
    expect(again.source).toBe('cache');
    expect(again.sha256).toBe(f.tb.sha256);
    expect(srv.count()).toBe(1);
  });

  it('moves a bad cached copy aside (never deletes it), says so, and fetches it again', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/${n}`]);
    srv.route('/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    const cached = path.join(f.dist, 'demo-1.0.tar.gz');
    await fetchDistfile(f.recipe, f.opts);
    writeFileSync(cached, Buffer.concat([f.tb.bytes.subarray(0, 100), Buffer.from('tampered'), f.tb.bytes.subarray(108)]));
    const r = await fetchDistfile(f.recipe, f.opts);
    expect(r.source).toBe(`${srv.url}/demo-1.0.tar.gz`);
    expect(readFileSync(cached).equals(f.tb.bytes)).toBe(true);
    expect(f.log.some((l) => l.includes('does not match the recipe') && l.includes('MD5') && l.includes(`moved it aside to ${cached}.rejected`))).toBe(true);
    expect(readFileSync(`${cached}.rejected`).subarray(100, 108).toString()).toBe('tampered');
    expect(srv.count()).toBe(2);
  });

  it('tries mirrors first, reports a 404 mirror in one line and uses the next', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/upstream/${n}`]);
    srv.route('/good/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    srv.route('/upstream/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    const r = await fetchDistfile(f.recipe, { ...f.opts, mirrors: [`${srv.url}/empty/`, `${srv.url}/good`] });
    expect(r.source).toBe(`${srv.url}/good/demo-1.0.tar.gz`);
    expect(f.log).toEqual([`${srv.url}/empty/demo-1.0.tar.gz: HTTP 404 Not Found`]);
    expect(srv.requests.map((q) => q.path)).toEqual(['/empty/demo-1.0.tar.gz', '/good/demo-1.0.tar.gz']);
  });

  it('follows redirects', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/moved/${n}`]);
    srv.route('/moved/demo-1.0.tar.gz', { kind: 'redirect', to: '/hop' });
    srv.route('/hop', { kind: 'redirect', to: `${srv.url}/real/demo-1.0.tar.gz`, status: 301 });
    srv.route('/real/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    const r = await fetchDistfile(f.recipe, f.opts);
    expect(r.sha256).toBe(f.tb.sha256);
    expect(srv.requests.map((q) => q.path)).toEqual(['/moved/demo-1.0.tar.gz', '/hop', '/real/demo-1.0.tar.gz']);
  });

  it('keeps a cut download when the server serves ranges and resumes it with a Range request', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/cut/${n}`, `${srv.url}/whole/${n}`]);
    const half = Math.floor(f.tb.size / 2);
    srv.route('/cut/demo-1.0.tar.gz', { kind: 'cut', body: f.tb.bytes, after: half });
    srv.route('/whole/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    const r = await fetchDistfile(f.recipe, f.opts);
    expect(r.source).toBe(`${srv.url}/whole/demo-1.0.tar.gz`);
    expect(readFileSync(r.path).equals(f.tb.bytes)).toBe(true);
    expect(f.log[0]).toBe(`${srv.url}/cut/demo-1.0.tar.gz: connection closed before the whole file arrived (kept ${half} bytes to resume)`);
    const resumed = srv.requests.find((q) => q.path === '/whole/demo-1.0.tar.gz')!;
    expect(resumed.headers.range).toBe(`bytes=${half}-`);
    expect(f.log[1]).toBe(`${srv.url}/whole/demo-1.0.tar.gz: resuming demo-1.0.tar.gz at byte ${half}`);
    expect(existsSync(`${r.path}.part`)).toBe(false);
  });

  it('resumes a .part left by an earlier run', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/${n}`]);
    srv.route('/demo-1.0.tar.gz', [{ kind: 'cut', body: f.tb.bytes, after: 5000 }, { kind: 'file', body: f.tb.bytes }]);
    const err = await failure(fetchDistfile(f.recipe, f.opts));
    expect(err.code).toBe('E_NETWORK');
    expect(statSync(path.join(f.dist, 'demo-1.0.tar.gz.part')).size).toBe(5000);
    const r = await fetchDistfile(f.recipe, f.opts);
    expect(r.sha256).toBe(f.tb.sha256);
    expect(srv.requests[1]!.headers.range).toBe('bytes=5000-');
  });

  it('starts over when the server ignores Range, and removes a cut .part it cannot resume', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/a/${n}`, `${srv.url}/b/${n}`]);
    srv.route('/a/demo-1.0.tar.gz', { kind: 'cut', body: f.tb.bytes, after: 1000, ranges: false });
    srv.route('/b/demo-1.0.tar.gz', { kind: 'cut', body: f.tb.bytes, after: 2000, ranges: false });
    const err = await failure(fetchDistfile(f.recipe, f.opts));
    expect(err.code).toBe('E_NETWORK');
    expect(err.exitCode).toBe(111);
    expect(err.message).toBe('unable to fetch demo-1.0.tar.gz: all 2 sources failed');
    expect(f.log).toHaveLength(2);
    expect(readdirSync(f.dist)).toEqual([]);
    // Now a server without ranges but with whole bytes: a stale .part must not be glued to a 200.
    writeFileSync(path.join(f.dist, 'demo-1.0.tar.gz.part'), f.tb.bytes.subarray(0, 3000));
    srv.route('/a/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes, ranges: false });
    const r = await fetchDistfile(f.recipe, f.opts);
    expect(readFileSync(r.path).equals(f.tb.bytes)).toBe(true);
  });

  it('retries from byte 0 when a resumed download does not verify', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/${n}`]);
    srv.route('/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    const part = path.join(f.dist, 'demo-1.0.tar.gz.part');
    (await import('node:fs')).mkdirSync(f.dist, { recursive: true });
    writeFileSync(part, Buffer.alloc(4000, 0x55));
    const r = await fetchDistfile(f.recipe, f.opts);
    expect(r.sha256).toBe(f.tb.sha256);
    expect(srv.requests.map((q) => q.headers.range)).toEqual(['bytes=4000-', undefined]);
    expect(f.log.some((l) => l.includes('did not verify; starting over'))).toBe(true);
  });

  it('deletes wrong bytes, exits 100 and names both MD5 and SHA-256 values', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/${n}`]);
    const evil = Buffer.from(f.tb.bytes);
    evil[evil.length - 10] ^= 0xff;
    srv.route('/demo-1.0.tar.gz', { kind: 'file', body: evil });
    const err = await failure(fetchDistfile(f.recipe, f.opts));
    expect(err.code).toBe('E_CHECKSUM');
    expect(err.exitCode).toBe(100);
    const { createHash } = await import('node:crypto');
    const evilMd5 = createHash('md5').update(evil).digest('hex');
    const evilSha = createHash('sha256').update(evil).digest('hex');
    expect(err.message).toContain('has been altered or corrupted');
    expect(err.message).toContain(`MD5 expected ${f.tb.md5}, got ${evilMd5}`);
    expect(err.message).toContain(`SHA-256 expected ${f.tb.sha256}, got ${evilSha}`);
    expect(readdirSync(f.dist)).toEqual([]);
  });

  it('names only SHA-256 when MD5 matches (a recipe whose sha256 is wrong)', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/${n}`], { sha256: '0'.repeat(64) });
    srv.route('/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    const err = await failure(fetchDistfile(f.recipe, f.opts));
    expect(err.message).toContain(`SHA-256 expected ${'0'.repeat(64)}, got ${f.tb.sha256}`);
    expect(err.message).not.toContain('MD5');
  });

  it('refuses a file of the wrong size, announced or streamed', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/${n}`], {});
    const longer = Buffer.concat([f.tb.bytes, Buffer.from('trailing junk')]);
    srv.route('/demo-1.0.tar.gz', { kind: 'file', body: longer });
    const err = await failure(fetchDistfile(f.recipe, f.opts));
    expect(err.code).toBe('E_SIZE');
    expect(err.exitCode).toBe(100);
    expect(err.message).toContain(`size expected ${f.tb.size}, got ${longer.length}`);
    expect(readdirSync(f.dist)).toEqual([]);
  });

  it('treats a body shorter than its Content-Length as a network failure', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/${n}`]);
    srv.route('/demo-1.0.tar.gz', { kind: 'wrong-length', body: f.tb.bytes.subarray(0, 1000), length: f.tb.size });
    const err = await failure(fetchDistfile(f.recipe, f.opts));
    expect(err.code).toBe('E_NETWORK');
    expect(f.log[0]).toContain('connection closed before the whole file arrived');
  });

  it('gives up on a stalled source after the idle time-out and tries the next', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/stall/${n}`, `${srv.url}/hang/${n}`, `${srv.url}/ok/${n}`]);
    srv.route('/stall/demo-1.0.tar.gz', { kind: 'stall', body: f.tb.bytes, after: 100 });
    srv.route('/hang/demo-1.0.tar.gz', { kind: 'hang' });
    srv.route('/ok/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    const r = await fetchDistfile(f.recipe, { ...f.opts, env: { DJBPKG_FETCH_TIMEOUT_MS: '400', DJBPKG_FETCH_IDLE_MS: '300' } });
    expect(r.source).toBe(`${srv.url}/ok/demo-1.0.tar.gz`);
    expect(f.log[0]).toContain('no data for 300 ms');
    expect(f.log[1]).toContain('no response within 400 ms');
  });

  it('offline: uses the cache and opens no connection; without a cache it fails clearly', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/${n}`]);
    srv.route('/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    const err = await failure(fetchDistfile(f.recipe, { ...f.opts, offline: true }));
    expect(err.code).toBe('E_OFFLINE');
    expect(err.message).toContain('--offline');
    expect(srv.count()).toBe(0);
    await fetchDistfile(f.recipe, f.opts);
    const r = await fetchDistfile(f.recipe, { ...f.opts, offline: true });
    expect(r.source).toBe('cache');
    expect(srv.count()).toBe(1);
  });

  it('goes through HTTP_PROXY, and around it for NO_PROXY hosts', async () => {
    const srv = await startServer();
    const proxy = await startProxy();
    const f = await fixture((n) => [`${srv.url}/${n}`]);
    srv.route('/demo-1.0.tar.gz', { kind: 'file', body: f.tb.bytes });
    const r = await fetchDistfile(f.recipe, { ...f.opts, env: { http_proxy: proxy.url } });
    expect(r.sha256).toBe(f.tb.sha256);
    expect(proxy.requests).toEqual([`${srv.url}/demo-1.0.tar.gz`]);
    expect(srv.count()).toBe(1);
    const other = await fixture((n) => [`${srv.url}/${n}`]);
    srv.route('/demo-1.0.tar.gz', { kind: 'file', body: other.tb.bytes });
    await fetchDistfile(other.recipe, { ...other.opts, env: { HTTP_PROXY: proxy.url, NO_PROXY: 'example.org,127.0.0.1' } });
    expect(proxy.requests).toHaveLength(1);
    expect(srv.count()).toBe(2);
  });

  it('draws progress only on a terminal', async () => {
    const srv = await startServer();
    const f = await fixture((n) => [`${srv.url}/${n}`]);
    srv.route('/demo-1.0.tar.gz', { kind: 'slow', body: f.tb.bytes, chunk: 50_000, intervalMs: 20 });
    const drawn: string[] = [];
    const tty: Output = { write: (t) => void drawn.push(t), isTTY: true };
    await fetchDistfile(f.recipe, { ...f.opts, progress: tty });
    expect(drawn.join('')).toContain('demo-1.0.tar.gz');
    expect(drawn.join('')).toMatch(/\/s/);
    const other = await fixture((n) => [`${srv.url}/${n}`]);
    srv.route('/demo-1.0.tar.gz', { kind: 'file', body: other.tb.bytes });
    const quiet: string[] = [];
    await fetchDistfile(other.recipe, { ...other.opts, progress: { write: (t) => void quiet.push(t), isTTY: false } });
    expect(quiet).toEqual([]);
  });
});

describe('verifyFile', () => {
  it('reports expected and actual values and ok only when all match', async () => {
    const f = await fixture(() => ['http://127.0.0.1:9/x']);
    const good = await verifyFile(f.tb.path, f.recipe);
    expect(good.ok).toBe(true);
    expect(good.checks.map((c) => [c.what, c.expected, c.actual, c.ok])).toEqual([
      ['size', f.tb.size, f.tb.size, true],
      ['md5', f.tb.md5, f.tb.md5, true],
      ['sha256', f.tb.sha256, f.tb.sha256, true],
    ]);
    writeFileSync(f.tb.path, Buffer.concat([f.tb.bytes, Buffer.from('x')]));
    const bad = await verifyFile(f.tb.path, f.recipe);
    expect(bad.ok).toBe(false);
    expect(bad.checks.every((c) => !c.ok)).toBe(true);
  });
});
