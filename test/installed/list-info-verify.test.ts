import { chmodSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonOf, manageFixture } from '../support/fixture.js';

describe('djbpkg list', { timeout: 60_000 }, () => {
  it('says nothing is installed on an empty root, and --json gives an empty list', async () => {
    const f = await manageFixture();
    const r = await f.run(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('nothing is installed');
    expect(jsonOf(await f.run(['list', '--json'])).packages).toEqual([]);
  });

  it('lists the installed version as current with its patch sets and build', async () => {
    const f = await manageFixture();
    await f.install();
    const r = await f.run(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('admin/daemontools-0.76  current  build ts  patches errno\n');
    const j = jsonOf(await f.run(['list', '--json']));
    expect(j.packages).toEqual([
      {
        category: 'admin',
        name: 'daemontools',
        current: '0.76',
        packageDir: f.pkg('0.76'),
        versions: [{ version: '0.76', current: true, packageDir: f.pkg('0.76'), patches: ['errno'], build: 'ts', requires: [] }],
      },
    ]);
  });

  it('on a broken root (the NAME link gone) still lists the version, with no current one', async () => {
    const f = await manageFixture();
    await f.install();
    unlinkSync(path.join(f.root, 'package/admin/daemontools'));
    const j = jsonOf(await f.run(['list', '--json']));
    expect(j.packages[0].current).toBeNull();
    expect(j.packages[0].versions[0].current).toBe(false);
    expect((await f.run(['list'])).stdout).toContain('admin/daemontools-0.76  old');
  });
});

describe('djbpkg info (installed state)', { timeout: 60_000 }, () => {
  it('shows "not installed" beside the recipe facts before install, and the installed state after', async () => {
    const f = await manageFixture();
    const before = await f.run(['info', 'daemontools']);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain('  SHA-256   ');
    expect(before.stdout).toMatch(/installed\n {2}\(not installed\)\n$/);
    expect(jsonOf(await f.run(['info', 'daemontools', '--json'])).installed).toBeNull();
    await f.install();
    const after = await f.run(['info', 'daemontools']);
    expect(after.stdout).toContain(`installed\n  current   0.76\n  package   ${f.pkg('0.76')}\n  admin/daemontools-0.76  current  build ts  patches errno\n`);
    const j = jsonOf(await f.run(['info', 'daemontools', '--json']));
    expect(j.versions[0].version).toBe('0.76');
    expect(j.installed).toMatchObject({ category: 'admin', name: 'daemontools', current: '0.76', packageDir: f.pkg('0.76') });
  });

  it('shows the installed state when no recipe for the package is found', async () => {
    const f = await manageFixture();
    await f.install();
    // No recipe dir (bundled or --recipes) has a recipe named ghosttools.
    const pkgDir = path.join(f.root, 'package/admin');
    renameSync(path.join(pkgDir, 'daemontools-0.76'), path.join(pkgDir, 'ghosttools-0.76'));
    rmSync(path.join(pkgDir, 'daemontools'));
    symlinkSync('ghosttools-0.76', path.join(pkgDir, 'ghosttools'));
    const ghost = await f.run(['info', 'ghosttools']);
    expect(ghost.code).toBe(0);
    expect(ghost.stdout).toContain('ghosttools (category admin)\n  recipe    (none found)\ninstalled\n  current   0.76\n');
    const j = jsonOf(await f.run(['info', 'ghosttools', '--json']));
    expect(j).toMatchObject({ name: 'ghosttools', recipeFile: null, versions: [], installed: { current: '0.76' } });
    const unknown = await f.run(['info', 'nosuchpackage']);
    expect(unknown.code).toBe(100);
  });
});

describe('djbpkg verify (installed files)', { timeout: 60_000 }, () => {
  it('passes on a good root and lists a changed file and a missing link on a broken one, exit 100', async () => {
    const f = await manageFixture();
    await f.install();
    const good = await f.run(['verify', 'daemontools']);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('every installed file matches its manifest');
    const cmds = path.join(f.pkg('0.76'), 'package/commands');
    writeFileSync(cmds, readFileSync(cmds, 'utf8') + 'tampered\n');
    unlinkSync(path.join(f.root, 'command/envdir'));
    chmodSync(path.join(f.pkg('0.76'), 'command/svok'), 0o700);
    const bad = await f.run(['verify', 'daemontools']);
    expect(bad.code).toBe(100);
    expect(bad.stdout).toContain('  changed  /package/admin/daemontools-0.76/package/commands\n');
    expect(bad.stdout).toContain('  changed  /package/admin/daemontools-0.76/command/svok\n');
    expect(bad.stdout).toContain('  missing  /command/envdir\n');
    expect(bad.stderr).toContain(`djbpkg: fatal: installed files of ${f.pkg('0.76')} differ from the manifest`);
    const j = jsonOf(await f.run(['verify', 'daemontools', '--json']));
    expect(j.ok).toBe(false);
    expect(j.installed.missing).toEqual(['/command/envdir']);
  });
});
