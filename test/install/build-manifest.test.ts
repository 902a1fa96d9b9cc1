import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DjbError } from '../../src/core/errors.js';
import { Root } from '../../src/core/root.js';
import { buildTs, checkBuild, splitCommands, wrapperScript } from '../../src/install/build.js';
import { applyLink, wantedLinks } from '../../src/install/layout.js';
import { MANIFEST_FILE, formatManifest, parseManifest, scanTree, verifyInstalled } from '../../src/installed/manifest.js';
import { DIST_RUNTIME, run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

const PKG = { category: 'admin', name: 'daemontools', version: '0.76' };

describe('build ts', () => {
  it('splits package/commands into runtime programs present in dist/runtime and missing ones', () => {
    const s = splitCommands(['envdir', 'djbpkg', 'no-such-program'], DIST_RUNTIME);
    expect(s).toEqual({ present: ['envdir'], missing: ['djbpkg', 'no-such-program'] });
  });

  it('copies the bundled runtime into the package and writes 0755 /bin/sh wrappers that run it through /command and /usr/local/bin links', async () => {
    const root = new Root(tempDir());
    const tree = path.join(root.packageDir, 'admin/daemontools-0.76');
    mkdirSync(tree, { recursive: true });
    await buildTs(tree, 'daemontools 0.76', ['envdir'], DIST_RUNTIME);
    const wrapper = path.join(tree, 'command/envdir');
    expect(statSync(wrapper).mode & 0o777).toBe(0o755);
    const text = readFileSync(wrapper, 'utf8');
    expect(text.startsWith('#!/bin/sh\n# djbpkg: daemontools 0.76 envdir (TypeScript runtime)\n')).toBe(true);
    expect(text).toContain(`node='${process.execPath}'`);
    expect(text).toContain(`DJBPKG_PACKAGE_DIR=$pkg exec "$node" "$pkg/"'runtime/envdir.js' "$@"`);
    expect(statSync(path.join(tree, 'runtime/envdir.js')).size).toBeGreaterThan(0);
    expect(existsSync(path.join(tree, 'runtime/svc.js'))).toBe(false);
    const koffiPkg = JSON.parse(readFileSync(path.join(tree, 'runtime/node_modules/koffi/package.json'), 'utf8')) as { name: string };
    expect(koffiPkg.name).toBe('koffi');
    for (const l of wantedLinks(root, PKG, ['envdir'])) await applyLink(l);
    for (const via of ['command/envdir', 'usr/local/bin/envdir']) {
      const r = await run(root.join(via), []);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('envdir: usage: envdir dir child\n');
      expect(r.code).toBe(111);
    }
  });

  it('a wrapper whose node is gone says so and exits 111', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'command/svc');
    mkdirSync(path.dirname(file));
    writeFileSync(file, wrapperScript('daemontools 0.76', 'svc', { node: path.join(dir, 'gone/node'), program: '/x.js' }));
    chmodSync(file, 0o755);
    const r = await run(file, ['-u', '/service/x']);
    expect(r.code).toBe(111);
    expect(r.stderr).toBe(`svc: fatal: node not found at ${path.join(dir, 'gone/node')}; reinstall with djbpkg install\n`);
  });

  it('--build picks what the recipe offers; an unoffered build is a clear usage error', () => {
    expect(checkBuild('ts', ['ts', 'native'])).toBe('ts');
    expect(checkBuild('native', ['ts', 'native'])).toBe('native');
    expect(checkBuild(undefined, ['native'])).toBe('native');
    let err: DjbError | undefined;
    try {
      checkBuild('ts', ['native'], 'ucspi-tcp 0.88');
    } catch (e) {
      err = e as DjbError;
    }
    if (!err) throw new Error('--build ts was accepted for a native-only recipe');
    expect(err.code).toBe('E_USAGE');
    expect(err.message).toBe('ucspi-tcp 0.88 has no ts build');
  });
});

describe('manifest', () => {
  it('round-trips and verifyInstalled reports a changed file, a changed mode and a missing one', async () => {
    const root = new Root(tempDir());
    const pkg = path.join(root.packageDir, 'admin/daemontools-0.76');
    mkdirSync(path.join(pkg, 'package'), { recursive: true });
    mkdirSync(path.join(pkg, 'src'));
    writeFileSync(path.join(pkg, 'src/a.c'), 'int a;\n');
    writeFileSync(path.join(pkg, 'src/b.c'), 'int b;\n');
    writeFileSync(path.join(pkg, 'src/c.c'), 'int c;\n');
    const entries = await scanTree(pkg);
    const text = formatManifest([...entries, { kind: 'rootlink', path: '/command/svc', target: '../package/admin/daemontools/command/svc' }]);
    expect(parseManifest(text, 'm')).toEqual([...entries, { kind: 'rootlink', path: '/command/svc', target: '../package/admin/daemontools/command/svc' }]);
    writeFileSync(path.join(pkg, MANIFEST_FILE), text);
    for (const l of wantedLinks(root, PKG, [])) await applyLink(l);
    expect(await verifyInstalled(root.dir, 'daemontools')).toEqual({ changed: [], missing: ['/command/svc'] });
    writeFileSync(path.join(pkg, 'src/a.c'), 'int a = 1;\n');
    chmodSync(path.join(pkg, 'src/b.c'), 0o600);
    const v = await verifyInstalled(root, 'daemontools');
    expect(v.changed).toEqual(['/package/admin/daemontools-0.76/src/a.c', '/package/admin/daemontools-0.76/src/b.c']);
  });

  it('verifyInstalled on a root without the package is E_NOT_INSTALLED', async () => {
    const err = await verifyInstalled(tempDir(), 'daemontools').catch((e: unknown) => e);
    expect((err as DjbError).code).toBe('E_NOT_INSTALLED');
  });
});
