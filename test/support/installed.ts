/**
 * The runtime programs as users run them: `djbpkg install daemontools` of a
 * tarball built here into a temp root, then the wrappers behind ROOT/command
 * (bundles in the package's runtime/, not dist/bin). The one daemontools
 * installer of the test suite, and the one list of its programs.
 *
 *     const rt = useInstalledRuntime();          // once per test file
 *     it('...', async () => { await run(rt.command('softlimit'), ['-m', '3000000', '/bin/echo', 'ok']); });
 *
 *     const { root, command } = await installedRoot();   // a root of its own for one test
 */
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { writeRecipe, versionOf } from './recipe.js';
import { djbpkg } from './run.js';
import { buildTarball, type Tarball } from './tarball.js';
import { tempDir } from './tmp.js';

/** 0.76's package/commands: every program of the TypeScript runtime. */
export const RUNTIME_COMMANDS = [
  'svscan', 'svscanboot', 'supervise', 'svc', 'svok', 'svstat', 'fghack', 'pgrphack', 'readproctitle',
  'multilog', 'tai64n', 'tai64nlocal', 'softlimit', 'setuidgid', 'envuidgid', 'envdir', 'setlock',
];

/** A synthetic daemontools-0.76.tar.gz in `dir`: an admin/daemontools-0.76 tree with 0.76's package/commands. */
export function daemontoolsDistfile(dir: string): Promise<Tarball> {
  return buildTarball(dir, 'daemontools-0.76.tar.gz', {
    'admin/daemontools-0.76/package/commands': RUNTIME_COMMANDS.join('\n') + '\n',
    'admin/daemontools-0.76/package/install': { content: '#!/bin/sh -e\npackage/compile\n', mode: 0o755 },
    'admin/daemontools-0.76/package/README': 'daemontools 0.76 (test tree)\n',
    'admin/daemontools-0.76/src/svc.c': 'int main(void) { return 0; }\n',
  });
}

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
  const tb = await daemontoolsDistfile(dist);
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

// One installed root per test file, made on first use; installedRoot() hands out copies of it.
let template: Promise<string> | undefined;
let templateBase = '';
afterAll(() => {
  if (templateBase) rmSync(templateBase, { recursive: true, force: true });
  template = undefined;
  templateBase = '';
});

/**
 * A root with daemontools installed the way users get it, for one test (a
 * copy of one install per test file; its links are relative, so the copy
 * works in place), in a temp dir searchable by everyone and removed after
 * the test.
 */
export async function installedRoot(prefix = 'djbpkg-root-'): Promise<{ root: string; command: (name: string) => string }> {
  if (!template) {
    templateBase = mkdtempSync(path.join(os.tmpdir(), 'djbpkg-template-'));
    template = installDaemontools(templateBase);
  }
  const from = await template;
  const base = tempDir(prefix);
  chmodSync(base, 0o755);
  const root = path.join(base, 'root');
  cpSync(from, root, { recursive: true, verbatimSymlinks: true });
  return { root, command: (name) => path.join(root, 'command', name) };
}
