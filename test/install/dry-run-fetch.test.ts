import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer } from '../support/http.js';
import type { TestServer } from '../support/http.js';
import { writeRecipe } from '../support/recipe.js';
import { djbpkg } from '../support/run.js';
import type { RunResult } from '../support/run.js';
import { digestsOf } from '../support/tarball.js';
import { tempDir } from '../support/tmp.js';
import { daemontoolsMembers, rawTarGz } from '../support/rawtar.js';

/** `+` is a legal distfile character that a URL path must carry as %2B. */
const DISTFILE = 'daemontools+x-0.76.tar.gz';
const ENCODED = 'daemontools%2Bx-0.76.tar.gz';
const UNREACHABLE = `http://127.0.0.1:9/unreachable/${ENCODED}`;

interface Fixture {
  root: string;
  srv: TestServer;
  cached: string;
  body: Buffer;
  run(args: string[]): Promise<RunResult>;
}

/** A root, a recipe pinning a tarball whose distfile name needs encoding (its size `sizeDelta` off when asked), and a loopback mirror serving it. */
async function fixture(sizeDelta = 0): Promise<Fixture> {
  const base = tempDir('djbpkg-dryfetch-');
  const root = path.join(base, 'root');
  mkdirSync(root);
  const recipes = path.join(base, 'recipes');
  const body = rawTarGz(daemontoolsMembers({ commands: ['envdir'] }));
  const d = digestsOf(body);
  const srv = await startServer({ [`/${ENCODED}`]: { kind: 'file', body } });
  writeRecipe(recipes, {
    name: 'daemontools',
    category: 'admin',
    versions: { '0.76': { distfile: DISTFILE, urls: [UNREACHABLE], size: d.size + sizeDelta, md5: d.md5, sha256: d.sha256, build: 'slashpackage' } },
  });
  const run = (args: string[]): Promise<RunResult> => djbpkg([...args, '--root', root, '--recipes', recipes, '--mirror', srv.url]);
  return { root, srv, cached: path.join(root, 'usr/local/djb/dist', DISTFILE), body, run };
}

/** The `fetch: would …` line of a dry run. */
async function fetchPlan(f: Fixture, ...extra: string[]): Promise<string> {
  const r = await f.run(['install', 'daemontools', '--dry-run', '--boot', 'none', ...extra]);
  expect(r.stderr).toContain('dry run: nothing was changed');
  const line = r.stderr.split('\n').find((l) => l.startsWith('djbpkg: fetch: would '));
  if (line === undefined) throw new Error(`no fetch plan in:\n${r.stderr}`);
  return line.slice('djbpkg: fetch: would '.length);
}

describe('install --dry-run plans the fetch that fetch does', { timeout: 60_000 }, () => {
  it('names the encoded URL fetch then downloads from, then the cached copy fetch then uses', async () => {
    const f = await fixture();
    const plan = await fetchPlan(f);
    expect(plan).toBe(`download ${DISTFILE} from ${f.srv.url}/${ENCODED} or ${UNREACHABLE}`);
    expect(f.srv.count()).toBe(0);
    expect(existsSync(f.cached)).toBe(false);

    const fetched = await f.run(['fetch', 'daemontools', '--json']);
    expect(fetched.code).toBe(0);
    const first = plan.slice(`download ${DISTFILE} from `.length).split(' or ')[0];
    expect((JSON.parse(fetched.stdout) as { source: string }).source).toBe(first);
    expect(f.srv.count(`/${ENCODED}`)).toBe(1);

    expect(await fetchPlan(f)).toBe(`use ${f.cached} from the cache (digests match)`);
    const again = await f.run(['fetch', 'daemontools', '--json']);
    expect((JSON.parse(again.stdout) as { source: string }).source).toBe('cache');
    expect(f.srv.count()).toBe(1);
  });

  it('a cached copy of the wrong size is not planned as usable, as fetch does not use it', async () => {
    // MD5 and SHA-256 match the cached bytes; only the recipe's size differs.
    const f = await fixture(1);
    mkdirSync(path.dirname(f.cached), { recursive: true });
    writeFileSync(f.cached, f.body);
    expect(await fetchPlan(f)).toBe(`replace ${f.cached} (digests do not match the recipe) by a download`);
    expect(await fetchPlan(f, '--offline')).toBe(`fail: ${f.cached} does not match the recipe and --offline is set`);
    expect(existsSync(`${f.cached}.rejected`)).toBe(false);

    const offline = await f.run(['fetch', 'daemontools', '--offline']);
    expect(offline.code).toBe(100);
    expect(offline.stderr).toMatch(/^djbpkg: fatal: the cached .* does not match the recipe \(size: recipe \d+, file \d+\)/m);
    expect(existsSync(`${f.cached}.rejected`)).toBe(true);
    expect(f.srv.count()).toBe(0);
  });
});
