import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startServer } from './http.js';
import type { TestServer } from './http.js';
import { versionOf, writeRecipe } from './recipe.js';
import { djbpkg } from './run.js';
import type { RunResult } from './run.js';
import { daemontoolsDistfile } from './installed.js';
import type { Tarball } from './tarball.js';

export function ok(r: RunResult): RunResult {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
}

export function parse<T = Record<string, unknown>>(r: RunResult): T {
  return JSON.parse(ok(r).stdout) as T;
}

/**
 * A temp directory searchable by everyone (mode 0755): services run by
 * setuidgid as nobody must reach the commands and logs inside it.
 * Removed by the caller.
 */
export function openTemp(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export interface Distribution {
  dir: string;
  tarball: Tarball;
  /** Recipe dir pinning the tarball (its own URL is unreachable: use the mirror). */
  recipes: string;
  server: TestServer;
  close(): Promise<void>;
}

/** A synthetic daemontools-0.76 tarball, a recipe pinning it and a loopback mirror serving it. */
export async function distribution(): Promise<Distribution> {
  const dir = openTemp('djbpkg-svc-dist-');
  const tarball = await daemontoolsDistfile(dir);
  const recipes = path.join(dir, 'recipes');
  writeRecipe(recipes, { name: 'daemontools', versions: { '0.76': versionOf(tarball, ['http://127.0.0.1:9/unreachable/daemontools-0.76.tar.gz']) } });
  const server = await startServer({ '/daemontools-0.76.tar.gz': { kind: 'file', body: tarball.bytes } }, { persistent: true });
  return {
    dir,
    tarball,
    recipes,
    server,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** distribution() for the calling describe block: filled in its beforeAll, closed in its afterAll. */
export function useDistribution(): Distribution {
  const dist = {} as Distribution;
  beforeAll(async () => {
    Object.assign(dist, await distribution());
  }, 60_000);
  afterAll(async () => {
    await dist.close?.();
  });
  return dist;
}

/**
 * useDistribution() with daemontools installed from it once, into
 * DIST/installed: each test copies that root (copyRoot).
 */
export function useInstalledDistribution(): Distribution & { installed: string } {
  const dist = {} as Distribution & { installed: string };
  beforeAll(async () => {
    Object.assign(dist, await distribution());
    dist.installed = path.join(dist.dir, 'installed');
    await installInto(dist, dist.installed);
  }, 120_000);
  afterAll(async () => {
    await dist.close?.();
  });
  return dist;
}

/** Installs daemontools (ts build, no boot hook) into `root` from the distribution. */
export async function installInto(dist: Distribution, root: string): Promise<void> {
  ok(await djbpkg(['install', 'daemontools', '--root', root, '--recipes', dist.recipes, '--mirror', dist.server.url, '--boot', 'none', '--json']));
}

/** Copies an installed root (its links are relative, so the copy works in place). */
export function copyRoot(from: string, to: string): void {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

export function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
