/**
 * The runtime programs as users run them: `djbpkg install daemontools` of a
 * tarball built here into a temp root, once per test file, then the wrappers
 * behind ROOT/command (bundles in the package's runtime/, not dist/bin).
 *
 *     const rt = useInstalledRuntime();
 *     it('...', async () => { await run(rt.command('softlimit'), ['-m', '3000000', '/bin/echo', 'ok']); });
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { writeRecipe, versionOf } from './recipe.js';
import { djbpkg } from './run.js';
import { buildTarball } from './tarball.js';

/** 0.76's package/commands. */
export const RUNTIME_COMMANDS = [
  'svscan', 'svscanboot', 'supervise', 'svc', 'svok', 'svstat', 'fghack', 'pgrphack', 'readproctitle',
  'multilog', 'tai64n', 'tai64nlocal', 'softlimit', 'setuidgid', 'envuidgid', 'envdir', 'setlock',
];

export interface InstalledRuntime {
  /** The temp root (set in beforeAll). */
  root: string;
  /** ROOT/package/admin/daemontools-0.76 */
  packageDir: string;
  /** ROOT/command/NAME: the installed wrapper for NAME. */
  command(name: string): string;
  /** ROOT/command, for PATH. */
  commandDir: string;
}

/** Installs once for the calling test file (beforeAll) and removes the root afterwards (afterAll). */
export function useInstalledRuntime(timeoutMs = 120_000): InstalledRuntime {
  const rt: InstalledRuntime = {
    root: '',
    packageDir: '',
    commandDir: '',
    command: (name) => path.join(rt.commandDir, name),
  };
  let base = '';
  beforeAll(async () => {
    base = mkdtempSync(path.join(os.tmpdir(), 'djbpkg-installed-'));
    const root = await installDaemontools(base, timeoutMs);
    rt.root = root;
    rt.packageDir = path.join(root, 'package/admin/daemontools-0.76');
    rt.commandDir = path.join(root, 'command');
  }, timeoutMs);
  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });
  return rt;
}

/**
 * `djbpkg install daemontools` (ts build, no boot hook) of a tarball built
 * here, offline from BASE/dist, into BASE/root; returns the root.
 */
export async function installDaemontools(base: string, timeoutMs = 120_000): Promise<string> {
  // As / is: other users (setuidgid nobody ...) reach the installed commands.
  chmodSync(base, 0o755);
  const dist = path.join(base, 'dist');
  const tb = await buildTarball(dist, 'daemontools-0.76.tar.gz', {
    'admin/daemontools-0.76/package/commands': RUNTIME_COMMANDS.join('\n') + '\n',
    'admin/daemontools-0.76/package/install': { content: '#!/bin/sh -e\npackage/compile\n', mode: 0o755 },
    'admin/daemontools-0.76/package/README': 'daemontools 0.76 (test tree)\n',
    'admin/daemontools-0.76/src/svc.c': 'int main(void) { return 0; }\n',
  });
  const recipes = path.join(base, 'recipes');
  writeRecipe(recipes, { name: 'daemontools', versions: { '0.76': versionOf(tb, ['http://127.0.0.1:9/unused.tar.gz']) } });
  const root = path.join(base, 'root');
  const r = await djbpkg(
    ['install', 'daemontools', '--root', root, '--recipes', recipes, '--distfiles', dist, '--offline', '--boot', 'none', '--no-start'],
    { timeoutMs },
  );
  if (r.code !== 0) throw new Error(`djbpkg install failed (${r.code}): ${r.stderr}`);
  return root;
}
