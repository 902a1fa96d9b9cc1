import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTai64n } from '../../src/djb/tai64n.js';
import { startServer } from '../support/http.js';
import { alive, pollUntil, track } from '../support/procs.js';
import { writeRecipe, versionOf } from '../support/recipe.js';
import { djbpkg, run } from '../support/run.js';
import type { RunResult } from '../support/run.js';
import { daemontoolsDistfile, RUNTIME_COMMANDS } from '../support/installed.js';
import { tempDir } from '../support/tmp.js';

/**
 * The README's quick start, as a user would run it: install from a loopback
 * mirror, move the root elsewhere (nothing of the checkout is used after
 * that), boot, add a logged service, watch it, restart it, stop everything.
 */

function ok(r: RunResult): RunResult {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r;
}

interface Story {
  /** Where the root was installed (removed before the story goes on). */
  installedAt: string;
  /** The moved root the story runs in. */
  root: string;
  install: Record<string, unknown>;
}

async function installAndMove(installArgs: string[], serve: Buffer): Promise<Story> {
  const base = tempDir('djbpkg-e2e-');
  const server = await startServer({ '/daemontools-0.76.tar.gz': { kind: 'file', body: serve } });
  const first = path.join(base, 'first');
  const r = ok(await djbpkg(['install', 'daemontools', '--root', first, '--mirror', server.url, '--json', ...installArgs]));
  const install = JSON.parse(r.stdout) as Record<string, unknown>;
  const root = path.join(base, 'moved');
  cpSync(first, root, { recursive: true, verbatimSymlinks: true });
  rmSync(first, { recursive: true, force: true });
  return { installedAt: first, root, install };
}

async function runStory(s: Story): Promise<void> {
  const { root } = s;
  const cmd = (name: string) => path.join(root, 'command', name);
  const svstat = async (dir: string) => (await run(cmd('svstat'), [dir])).stdout;

  // The installed tree works from its new place: no checkout, no node_modules.
  const usage = await run(cmd('envdir'), []);
  expect(usage.stderr).toBe('envdir: usage: envdir dir child\n');

  const boot = JSON.parse(ok(await djbpkg(['boot', '--root', root, '--json'])).stdout) as { pid: number; readproctitlePid: number };
  track(boot.pid);
  track(boot.readproctitlePid);
  expect(alive(boot.pid)).toBe(true);
  expect(readFileSync(`/proc/${boot.pid}/cmdline`, 'utf8')).toContain(path.join(root, 'service'));

  // A service with a logger, made beside /service and moved in whole.
  const staging = path.join(root, 'service', '.hello');
  mkdirSync(path.join(staging, 'log'), { recursive: true });
  writeFileSync(path.join(staging, 'run'), '#!/bin/sh\ni=0\nwhile :; do i=$((i+1)); echo "hello line $i"; sleep 0.05; done\n');
  writeFileSync(path.join(staging, 'log', 'run'), '#!/bin/sh\nexec multilog t ./main\n');
  chmodSync(path.join(staging, 'run'), 0o755);
  chmodSync(path.join(staging, 'log', 'run'), 0o755);
  const hello = path.join(root, 'service', 'hello');
  renameSync(staging, hello);

  const up = /^\S+: up \(pid (\d+)\) \d+ seconds\n$/;
  const firstPid = Number((await pollUntil('hello up', async () => up.exec(await svstat(hello)), 30_000))[1]);
  const logPid = Number((await pollUntil('hello/log up', async () => up.exec(await svstat(path.join(hello, 'log'))), 30_000))[1]);

  const current = path.join(hello, 'log', 'main', 'current');
  const stamped = await pollUntil('stamped lines in main/current', () => {
    if (!existsSync(current)) return false;
    const lines = readFileSync(current, 'utf8').split('\n').filter(Boolean);
    return lines.length >= 5 ? lines : false;
  }, 30_000);
  for (const line of stamped) {
    const m = /^(@[0-9a-f]{24}) hello line (\d+)$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(parseTai64n(m![1]!)).toBeDefined();
  }

  ok(await run(cmd('svc'), ['-t', hello]));
  const secondPid = Number(
    (await pollUntil('hello restarted with a new pid', async () => {
      const m = up.exec(await svstat(hello));
      return m && Number(m[1]) !== firstPid ? m : false;
    }, 30_000))[1],
  );
  expect(alive(firstPid)).toBe(false);
  // After the restart numbering starts again at 1, in the same log.
  await pollUntil('lines of the restarted service in the log', () => /hello line 1\n[^]*hello line 1\n/.test(readFileSync(current, 'utf8')), 30_000);

  const stop = JSON.parse(ok(await djbpkg(['boot', '--stop', '--root', root, '--json'])).stdout) as { stopped: number[] };
  expect(stop.stopped).toContain(boot.pid);
  const started = [boot.pid, boot.readproctitlePid, secondPid, logPid];
  await pollUntil('everything stopped', () => started.every((pid) => !alive(pid)), 30_000);
  expect(await svstat(hello)).toBe(`${hello}: supervise not running\n`);
}

describe('end to end: install, move, boot, a logged service, restart, stop', { timeout: 120_000 }, () => {
  it('works with a tarball built here and a local recipe', async () => {
    const dist = tempDir('djbpkg-e2e-dist-');
    const tb = await daemontoolsDistfile(dist);
    const recipes = path.join(dist, 'recipes');
    writeRecipe(recipes, { name: 'daemontools', versions: { '0.76': versionOf(tb, ['http://127.0.0.1:9/unused.tar.gz']) } });
    const s = await installAndMove(['--recipes', recipes, '--boot', 'none'], tb.bytes);
    expect(s.install.commands).toEqual(RUNTIME_COMMANDS);
    expect(s.install.missing).toEqual([]);
    await runStory(s);
  });

  const upstream = process.env.DJBPKG_UPSTREAM_TARBALL;
  it.skipIf(!upstream)(
    `works with the genuine daemontools-0.76.tar.gz and the bundled recipe, sigq12 included${upstream ? '' : ' (skipped: DJBPKG_UPSTREAM_TARBALL is not set)'}`,
    async () => {
      const s = await installAndMove(['--with', 'sigq12'], readFileSync(upstream!));
      expect(s.install.patches).toEqual(['errno', 'sigq12']);
      expect(s.install.commands).toEqual(RUNTIME_COMMANDS);
      const pkg = path.join(s.root, 'package/admin/daemontools-0.76');
      expect(readFileSync(path.join(pkg, 'src/error.h'), 'utf8')).toContain('#include <errno.h>');
      // svc takes -1 because the package records sigq12.
      const svcUsage = await run(path.join(s.root, 'command/svc'), ['-z']);
      expect(svcUsage.code).toBe(100);
      expect(svcUsage.stderr).toMatch(/q quit, 1 usr1, 2 usr2/);
      const sysdeps = ok(await djbpkg(['sysdeps', '--root', s.root]));
      expect(readFileSync(path.join(pkg, 'compile/sysdeps'), 'utf8')).toBe(sysdeps.stdout);
      ok(await djbpkg(['verify', 'daemontools', '--root', s.root]));
      await runStory(s);
    },
  );
});

