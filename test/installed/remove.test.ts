import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Root } from '../../src/core/root.js';
import { FENCE_BEGIN, FENCE_END, INITTAB_LINE } from '../../src/boot/boot.js';
import { lockRoot } from '../../src/installed/lock.js';
import { treeListing } from '../support/tree.js';
import { jsonOf, manageFixture } from '../support/fixture.js';

function present(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

describe('djbpkg remove', { timeout: 60_000 }, () => {
  it('removes the links into the package, the NAME link and the version dir; leaves a foreign link, /service and the boot line', async () => {
    const f = await manageFixture();
    await f.install();
    symlinkSync('/usr/bin/env', path.join(f.root, 'command/foreign'));
    symlinkSync('../../../command/foreign', path.join(f.root, 'usr/local/bin/foreign'));
    // Same category, another package whose name starts like ours: not ours.
    symlinkSync('../package/admin/daemontools-extra/command/x', path.join(f.root, 'command/x'));
    mkdirSync(path.join(f.root, 'service/hello'));
    const inittab = readFileSync(path.join(f.root, 'etc/inittab'), 'utf8');
    expect(inittab).toContain(INITTAB_LINE);
    const r = await f.run(['remove', 'daemontools']);
    expect(r.stderr).toBe(
      [
        `djbpkg: remove link ${f.root}/command/envdir -> ../package/admin/daemontools/command/envdir: done`,
        `djbpkg: remove link ${f.root}/command/svok -> ../package/admin/daemontools/command/svok: done`,
        `djbpkg: remove link ${f.root}/usr/local/bin/envdir -> ../../../command/envdir: done`,
        `djbpkg: remove link ${f.root}/usr/local/bin/svok -> ../../../command/svok: done`,
        ...['djbpkg', 'envdir', 'svok'].map((n) => `djbpkg: remove link ${f.root}/usr/local/share/man/man8/${n}.8 -> ../../../../../package/admin/daemontools/man/man8/${n}.8: done`),
        `djbpkg: remove link ${f.root}/package/admin/daemontools -> daemontools-0.76: done`,
        `djbpkg: remove ${f.root}/package/admin/daemontools-0.76: done`,
        `djbpkg: services in ${f.root}/service and the boot line were left alone (--purge removes the djbpkg boot hook)`,
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('removed daemontools 0.76\n');
    expect(readdirSync(path.join(f.root, 'command')).sort()).toEqual(['foreign', 'x']);
    expect(readdirSync(path.join(f.root, 'usr/local/bin'))).toEqual(['foreign']);
    expect(readdirSync(path.join(f.root, 'package/admin'))).toEqual([]);
    expect(existsSync(path.join(f.root, 'service/hello'))).toBe(true);
    expect(readFileSync(path.join(f.root, 'etc/inittab'), 'utf8')).toBe(inittab);
    const again = await f.run(['remove', 'daemontools']);
    expect(again.code).toBe(100);
    expect(again.stderr).toBe(`djbpkg: fatal: daemontools is not installed under ${f.root}/package\ndjbpkg: hint: djbpkg list --root ${f.root} shows what is installed\n`);
  });

  it('--dry-run says what it would remove and touches nothing; --json lists it', async () => {
    const f = await manageFixture();
    await f.install();
    const before = treeListing(f.root);
    const r = await f.run(['remove', 'daemontools', '--dry-run', '--purge']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`djbpkg: would remove ${f.root}/package/admin/daemontools-0.76\n`);
    expect(r.stderr).toContain(`djbpkg: would remove the djbpkg svscanboot block from ${f.root}/etc/inittab\n`);
    expect(r.stderr).toContain(`djbpkg: would remove the empty directory ${f.root}/service\n`);
    expect(r.stderr).toContain('dry run: nothing was changed');
    const j = jsonOf(await f.run(['remove', 'daemontools', '--dry-run', '--json']));
    expect(j).toMatchObject({ name: 'daemontools', versions: ['0.76'], whole: true, dryRun: true });
    expect(j.removed).toContainEqual({ kind: 'tree', path: f.pkg('0.76') });
    expect(treeListing(f.root)).toEqual(before);
  });

  it('--purge removes the fenced boot block but keeps a hand-written svscanboot line, and ROOT/service only when empty', async () => {
    const f = await manageFixture();
    await f.install();
    const file = path.join(f.root, 'etc/inittab');
    const hand = 'SX:2:respawn:/usr/local/bin/svscanboot # mine\n';
    writeFileSync(file, readFileSync(file, 'utf8') + hand);
    expect(readFileSync(file, 'utf8')).toContain(FENCE_BEGIN);
    const r = await f.run(['remove', 'daemontools', '--purge', '--json']);
    expect(r.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('id:2:initdefault:\n' + hand);
    expect(readFileSync(file, 'utf8')).not.toContain(FENCE_END);
    expect(existsSync(path.join(f.root, 'service'))).toBe(false);

    const g = await manageFixture();
    await g.install();
    mkdirSync(path.join(g.root, 'service/hello'));
    expect((await g.run(['remove', 'daemontools', '--purge'])).code).toBe(0);
    expect(existsSync(path.join(g.root, 'service/hello'))).toBe(true);
    expect(readFileSync(path.join(g.root, 'etc/inittab'), 'utf8')).toBe('id:2:initdefault:\n');
  });

  it('--purge removes the djbpkg systemd unit and its wants link, not a hand-written unit', async () => {
    const f = await manageFixture();
    mkdirSync(path.join(f.root, 'run/systemd/system'), { recursive: true });
    await f.install();
    const unit = path.join(f.root, 'etc/systemd/system/svscan.service');
    const wants = path.join(f.root, 'etc/systemd/system/multi-user.target.wants/svscan.service');
    expect(present(unit) && present(wants)).toBe(true);
    expect((await f.run(['remove', 'daemontools', '--purge'])).code).toBe(0);
    expect(present(unit) || present(wants)).toBe(false);

    const g = await manageFixture();
    mkdirSync(path.join(g.root, 'etc/systemd/system'), { recursive: true });
    mkdirSync(path.join(g.root, 'run/systemd/system'), { recursive: true });
    const mine = '[Service]\nExecStart=/command/svscanboot\n';
    writeFileSync(path.join(g.root, 'etc/systemd/system/svscan.service'), mine);
    await g.install();
    expect((await g.run(['remove', 'daemontools', '--purge'])).code).toBe(0);
    expect(readFileSync(path.join(g.root, 'etc/systemd/system/svscan.service'), 'utf8')).toBe(mine);
  });

  it('refuses a bad spec and a version that is not installed, exit 100', async () => {
    const f = await manageFixture();
    await f.install();
    const none = await f.run(['remove', 'daemontools@0.99']);
    expect(none.code).toBe(100);
    expect(none.stderr).toBe(`djbpkg: fatal: daemontools 0.99 is not installed under ${f.root}/package\ndjbpkg: hint: installed versions: 0.76\n`);
    const bad = await f.run(['remove', 'daemontools@']);
    expect(bad.code).toBe(100);
    expect(bad.stderr).toContain('djbpkg: fatal: bad package spec daemontools@\n');
    expect(readlinkSync(path.join(f.root, 'command/svok'))).toBe('../package/admin/daemontools/command/svok');
  });

  it('waits for the root lock: with another holder and --lock-wait 0 it exits 111 and removes nothing', async () => {
    const f = await manageFixture();
    await f.install();
    const before = treeListing(f.root, (rel) => rel === 'var/lib/djbpkg');
    const held = await lockRoot(new Root(f.root), 0);
    try {
      const r = await f.run(['remove', 'daemontools', '--lock-wait', '0']);
      expect(r.code).toBe(111);
      expect(r.stderr).toContain('another djbpkg install holds it');
    } finally {
      held.release();
    }
    expect(treeListing(f.root, (rel) => rel === 'var/lib/djbpkg')).toEqual(before);
    expect((await f.run(['remove', 'daemontools', '--lock-wait', '0'])).code).toBe(0);
  });
});
