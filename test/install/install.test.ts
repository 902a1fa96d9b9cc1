import { existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Root } from '../../src/core/root.js';
import { FENCE_BEGIN, INITTAB_LINE } from '../../src/boot/boot.js';
import { verifyInstalled } from '../../src/installed/manifest.js';
import { startServer } from '../support/http.js';
import { writeRecipe } from '../support/recipe.js';
import { DIST_RUNTIME, djbpkg } from '../support/run.js';
import type { RunResult } from '../support/run.js';
import { digestsOf } from '../support/tarball.js';
import { tempDir } from '../support/tmp.js';
import { ERRNO_PATCH, daemontoolsMembers, rawTarGz } from '../support/rawtar.js';
import type { RawMember } from '../support/rawtar.js';
import { treeListing } from '../support/tree.js';

/**
 * package/commands of the synthetic tree: three daemontools names (present once
 * the runtime has them), one the runtime never has, and `envdir` so that at
 * least one command is always present and the links are always exercised.
 */
const COMMANDS = ['svc', 'svok', 'svstat', 'nosuchprogram', 'envdir'];
const PRESENT = COMMANDS.filter((c) => existsSync(path.join(DIST_RUNTIME, `${c}.js`)));
const MISSING = COMMANDS.filter((c) => !PRESENT.includes(c));

const SIGQ12_PATCH = `sigq12: test stand-in that touches svc.c

--- a/src/svc.c
+++ b/src/svc.c
@@ -1 +1,2 @@
+/* sigq12 */
 int main(void) { return 0; }
`;
const BROKEN_PATCH = `broken: context that is not in the tree

--- a/src/svc.c
+++ b/src/svc.c
@@ -1 +1,2 @@
+/* never */
 int main(int argc, char **argv) { return 2; }
`;

interface Fixture {
  root: string;
  recipes: string;
  mirror: string;
  run(args: string[]): Promise<RunResult>;
  install(...extra: string[]): Promise<RunResult>;
}

/** A temp root, a recipe dir pinning a tarball the test built, and a loopback mirror serving it. */
async function fixture(members: RawMember[] = daemontoolsMembers({ commands: COMMANDS }), setup: (root: string) => void = () => {}): Promise<Fixture> {
  const base = tempDir('djbpkg-install-');
  const root = path.join(base, 'root');
  mkdirSync(root);
  setup(root);
  const recipes = path.join(base, 'recipes');
  const patches = path.join(base, 'patches');
  mkdirSync(patches, { recursive: true });
  writeFileSync(path.join(patches, 'errno.patch'), ERRNO_PATCH);
  writeFileSync(path.join(patches, 'sigq12.patch'), SIGQ12_PATCH);
  writeFileSync(path.join(patches, 'broken.patch'), BROKEN_PATCH);
  const body = rawTarGz(members);
  const d = digestsOf(body);
  const srv = await startServer({ '/daemontools-0.76.tar.gz': { kind: 'file', body } });
  writeRecipe(recipes, {
    name: 'daemontools',
    category: 'admin',
    versions: {
      '0.76': {
        distfile: 'daemontools-0.76.tar.gz',
        urls: ['http://127.0.0.1:9/unreachable/daemontools-0.76.tar.gz'],
        size: d.size,
        md5: d.md5,
        sha256: d.sha256,
        build: 'slashpackage',
        patches: {
          errno: { file: '../patches/errno.patch', default: true },
          sigq12: { file: '../patches/sigq12.patch', default: false },
          broken: { file: '../patches/broken.patch', default: false },
        },
      },
    },
  });
  const run = (args: string[]): Promise<RunResult> => djbpkg([...args, '--root', root, '--recipes', recipes, '--mirror', srv.url]);
  return { root, recipes, mirror: srv.url, run, install: (...extra) => run(['install', 'daemontools', '--json', ...extra]) };
}

/** The root minus the download cache and djbpkg's lock file (and their parent directories), which are kept on purpose. */
function fullListing(root: string): string[] {
  const kept = /^d (usr|usr\/local|var|var\/lib) /;
  return treeListing(root, (rel) => rel === 'var/lib/djbpkg' || rel === 'usr/local/djb').filter((l) => !kept.test(l));
}

function ok(r: RunResult): Record<string, unknown> {
  if (r.code !== 0) throw new Error(`djbpkg exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('djbpkg install', { timeout: 60_000 }, () => {
  it('lays out an inittab root as docs/installing.md says, and a second run changes nothing', async () => {
    const f = await fixture(undefined, (root) => {
      mkdirSync(path.join(root, 'etc'));
      writeFileSync(path.join(root, 'etc/inittab'), 'id:2:initdefault:\n');
    });
    const first = ok(await f.install());
    const pkg = path.join(f.root, 'package/admin/daemontools-0.76');
    expect(first).toEqual({
      name: 'daemontools',
      version: '0.76',
      packageDir: pkg,
      patches: ['errno'],
      build: 'ts',
      commands: PRESENT,
      missing: MISSING,
      boot: 'inittab',
      changed: true,
      sysdeps: path.join(pkg, 'compile/sysdeps'),
      svscanPid: null,
    });
    expect(readFileSync(path.join(pkg, 'compile/sysdeps'), 'utf8')).toMatch(/^linux-.*\nbuild: ts\n[^]*\/\* sysdep: \+flock \*\/\n/);
    expect(statSync(path.join(f.root, 'package')).mode & 0o7777).toBe(0o1755);
    expect(readlinkSync(path.join(f.root, 'package/admin/daemontools'))).toBe('daemontools-0.76');
    expect(statSync(path.join(pkg, 'package/install')).mode & 0o777).toBe(0o755);
    expect(readFileSync(path.join(pkg, 'package/patches'), 'utf8')).toBe('errno\n');
    expect(readFileSync(path.join(pkg, 'src/error.h'), 'utf8')).toContain('#include <errno.h>');
    for (const c of PRESENT) {
      expect(readlinkSync(path.join(f.root, 'command', c))).toBe(`../package/admin/daemontools/command/${c}`);
      expect(readlinkSync(path.join(f.root, 'usr/local/bin', c))).toBe(`../../../command/${c}`);
      expect(realpathSync(path.join(f.root, 'usr/local/bin', c))).toBe(realpathSync(path.join(pkg, 'command', c)));
      expect(statSync(path.join(pkg, 'command', c)).mode & 0o777).toBe(0o755);
    }
    for (const c of MISSING) {
      expect(existsSync(path.join(pkg, 'command', c))).toBe(false);
      expect(existsSync(path.join(f.root, 'command', c))).toBe(false);
    }
    expect(statSync(path.join(f.root, 'service')).isDirectory()).toBe(true);
    const inittab = readFileSync(path.join(f.root, 'etc/inittab'));
    expect(inittab.toString().split('\n').filter((l) => l.includes('svscanboot'))).toEqual([INITTAB_LINE]);
    expect(readdirNames(path.join(f.root, 'package/admin'))).toEqual(['daemontools', 'daemontools-0.76']);

    const before = fullListing(f.root);
    const second = ok(await f.install());
    expect(second.changed).toBe(false);
    expect(readFileSync(path.join(f.root, 'etc/inittab'))).toEqual(inittab);
    expect(fullListing(f.root)).toEqual(before);
    expect(await verifyInstalled(f.root, 'daemontools')).toEqual({ changed: [], missing: [] });
  });

  it('rc.local root (no csh) and systemd root each get exactly one hook, twice over', async () => {
    const rc = await fixture(undefined, (root) => {
      mkdirSync(path.join(root, 'etc'));
      writeFileSync(path.join(root, 'etc/rc.local'), '#!/bin/sh -e\necho up\nexit 0\n', { mode: 0o755 });
    });
    expect(ok(await rc.install()).boot).toBe('rclocal');
    const once = readFileSync(path.join(rc.root, 'etc/rc.local'), 'utf8');
    expect(once).toMatch(new RegExp(`^#!/bin/sh -e\\necho up\\n${FENCE_BEGIN}\\n/bin/sh -c '/command/svscanboot &'\\n# djbpkg daemontools end\\nexit 0\\n$`));
    expect(ok(await rc.install()).changed).toBe(false);
    expect(readFileSync(path.join(rc.root, 'etc/rc.local'), 'utf8')).toBe(once);

    const sd = await fixture(undefined, (root) => mkdirSync(path.join(root, 'run/systemd/system'), { recursive: true }));
    const r = await sd.install();
    expect(ok(r).boot).toBe('systemd');
    expect(r.stderr).toMatch(/systemd runs this root/);
    const unit = path.join(sd.root, 'etc/systemd/system/svscan.service');
    expect(readFileSync(unit, 'utf8')).toContain('ExecStart=/command/svscanboot');
    expect(readlinkSync(path.join(sd.root, 'etc/systemd/system/multi-user.target.wants/svscan.service'))).toBe('../svscan.service');
    expect(existsSync(path.join(sd.root, 'etc/rc.local'))).toBe(false);
    expect(ok(await sd.install()).changed).toBe(false);
  });

  it('--with / --without choose patch sets; an unknown name is a usage error', async () => {
    const f = await fixture();
    const r = ok(await f.install('--with', 'sigq12', '--boot', 'none'));
    const pkg = path.join(f.root, 'package/admin/daemontools-0.76');
    expect(r.patches).toEqual(['errno', 'sigq12']);
    expect(readFileSync(path.join(pkg, 'package/patches'), 'utf8')).toBe('errno\nsigq12\n');
    expect(readFileSync(path.join(pkg, 'src/svc.c'), 'utf8')).toContain('/* sigq12 */');

    // The patch sets chosen before are the starting point: --without drops one, sigq12 stays.
    const again = ok(await f.install('--without', 'errno', '--boot', 'none'));
    expect(again.patches).toEqual(['sigq12']);
    expect(again.changed).toBe(true);
    expect(readFileSync(path.join(pkg, 'package/patches'), 'utf8')).toBe('sigq12\n');
    expect(readFileSync(path.join(pkg, 'src/error.h'), 'utf8')).toContain('extern int errno;');
    expect(readdirNames(path.join(f.root, 'package/admin'))).toEqual(['daemontools', 'daemontools-0.76']);

    const bad = await f.install('--with', 'nosuch');
    expect(bad.code).toBe(100);
    expect(bad.stderr).toMatch(/^djbpkg: fatal: daemontools 0\.76 has no patch set nosuch\n/);
  });

  it('a patch that does not apply leaves the previous install exactly as it was', async () => {
    const f = await fixture(undefined, (root) => {
      mkdirSync(path.join(root, 'etc'));
      writeFileSync(path.join(root, 'etc/inittab'), 'id:2:initdefault:\n');
    });
    ok(await f.install());
    const before = fullListing(f.root);
    const r = await f.install('--with', 'broken');
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/djbpkg: fatal: .*broken/);
    expect(fullListing(f.root)).toEqual(before);
  });

  it('a malicious archive is refused and the root is left as it was', async () => {
    const f = await fixture(daemontoolsMembers({
      commands: COMMANDS,
      extra: [
        { name: 'admin/daemontools-0.76/escape', type: 'symlink', linkname: '../../../outside' },
        { name: 'admin/daemontools-0.76/escape/pwned', body: 'x' },
      ],
    }));
    const base = path.dirname(f.root);
    const outsideRoot = (): string[] => treeListing(base, (rel) => rel === 'root');
    const before = fullListing(f.root);
    const beforeBase = outsideRoot();
    const r = await f.install();
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/^djbpkg: fatal: refusing to unpack daemontools-0\.76\.tar\.gz: symlink admin\/daemontools-0\.76\/escape points outside/m);
    expect(fullListing(f.root)).toEqual(before);
    expect(outsideRoot()).toEqual(beforeBase);
  });

  it('--dry-run prints every step and touches nothing, on a fresh and on an installed root', async () => {
    const f = await fixture();
    const fresh = treeListing(f.root);
    const r = await f.run(['install', 'daemontools', '--dry-run']);
    expect(r.code).toBe(0);
    for (const stage of ['fetch', 'package-home', 'extract', 'patch', 'build', 'manifest', 'tree', 'links', 'boot']) {
      expect(r.stderr).toMatch(new RegExp(`^djbpkg: ${stage}: would `, 'm'));
    }
    expect(treeListing(f.root)).toEqual(fresh);

    ok(await f.install());
    const installed = treeListing(f.root);
    const again = await f.run(['install', 'daemontools', '--dry-run', '--with', 'sigq12']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/inspect: would find archive is safe to unpack/);
    expect(again.stderr).toMatch(/apply patch set sigq12/);
    expect(treeListing(f.root)).toEqual(installed);
  });

  it('a foreign file in /command stops the install before any change; --force replaces it', async () => {
    const f = await fixture(undefined, (root) => {
      mkdirSync(path.join(root, 'command'));
      writeFileSync(path.join(root, 'command/envdir'), '#!/bin/sh\necho someone else\n', { mode: 0o755 });
    });
    const before = fullListing(f.root);
    const r = await f.install('--boot', 'none');
    expect(r.code).toBe(100);
    expect(r.stderr).toContain(`djbpkg: fatal: not replacing what belongs to something else: ${f.root}/command/envdir (a file)\n`);
    expect(fullListing(f.root)).toEqual(before);
    const forced = ok(await f.install('--boot', 'none', '--force'));
    expect(forced.changed).toBe(true);
    expect(readlinkSync(path.join(f.root, 'command/envdir'))).toBe('../package/admin/daemontools/command/envdir');
    expect(existsSync(path.join(f.root, 'command/envdir{djbpkg-old}'))).toBe(false);
  });

  it('two installs at once: one waits for the other; both succeed and the tree is consistent', async () => {
    const f = await fixture();
    const [a, b] = await Promise.all([f.install('--boot', 'rclocal'), f.install('--boot', 'rclocal')]);
    const ra = ok(a);
    const rb = ok(b);
    expect([ra.changed, rb.changed].sort()).toEqual([false, true]);
    expect(await verifyInstalled(f.root, 'daemontools')).toEqual({ changed: [], missing: [] });
    const rcLocal = readFileSync(path.join(f.root, 'etc/rc.local'), 'utf8');
    expect(rcLocal.split('\n').filter((l) => l.includes('svscanboot'))).toHaveLength(1);
    expect(readdirNames(path.join(f.root, 'package/admin'))).toEqual(['daemontools', 'daemontools-0.76']);
  });

  it('an install that cannot get the lock in --lock-wait exits 111 with a clear message', async () => {
    const f = await fixture();
    const { lockRoot } = await import('../../src/installed/lock.js');
    const held = await lockRoot(new Root(f.root), 0);
    try {
      const r = await f.install('--lock-wait', '0.2');
      expect(r.code).toBe(111);
      expect(r.stderr).toMatch(/^djbpkg: fatal: unable to lock .*var\/lib\/djbpkg\/lock: another djbpkg install holds it\n/);
      expect(existsSync(path.join(f.root, 'package'))).toBe(false);
    } finally {
      held.release();
    }
  });

  it('the manifest lets verifyInstalled find a changed file', async () => {
    const f = await fixture();
    ok(await f.install('--boot', 'none'));
    const file = path.join(f.root, 'package/admin/daemontools-0.76/src/svok.c');
    writeFileSync(file, 'int main(void) { return 7; }\n');
    expect(await verifyInstalled(f.root, 'daemontools')).toEqual({ changed: ['/package/admin/daemontools-0.76/src/svok.c'], missing: [] });
    const v = await f.run(['verify', 'daemontools']);
    expect(v.code).toBe(100);
    expect(v.stdout).toContain('changed  /package/admin/daemontools-0.76/src/svok.c');
    expect(v.stderr).toMatch(/^djbpkg: fatal: .*\/package\/admin\/daemontools-0\.76\/src\/svok\.c changed/m);
    const r = await f.install('--boot', 'none');
    expect(ok(r).changed).toBe(true);
    expect(await verifyInstalled(f.root, 'daemontools')).toEqual({ changed: [], missing: [] });
    expect((await f.run(['verify', 'daemontools'])).code).toBe(0);
  });
});

function readdirNames(dir: string): string[] {
  return treeListing(dir).filter((l) => !l.slice(2).includes('/')).map((l) => l.split(' ')[1]!).sort();
}
