import { mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FENCE_BEGIN } from '../../src/boot/boot.js';
import { jsonOf, manageFixture } from '../support/fixture.js';
import { tempDir } from '../support/tmp.js';
import { djbpkg } from '../support/run.js';

const WITH_BOOT = ['svok', 'envdir', 'svscanboot'];

function fenced(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes(FENCE_BEGIN);
  } catch {
    return false;
  }
}

describe('what the admin chose is remembered', () => {
  it('reinstall-keeps-patch-sets: a reinstall without --with/--without keeps the recorded patch sets and says so', async () => {
    const f = await manageFixture();
    expect((await f.run(['install', 'daemontools', '--without', 'errno'])).code).toBe(0);
    expect(readFileSync(path.join(f.pkg('0.76'), 'package/choices'), 'utf8')).toBe('patches\nbuild ts\nboot inittab\n');
    const again = await f.run(['install', 'daemontools', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(jsonOf(again).patches).toEqual([]);
    expect(jsonOf(again).changed).toBe(false);
    expect(again.stderr).toContain('djbpkg: choices: keeping patch sets (none) chosen at the last install (--with/--without change them)\n');
    const back = await f.run(['install', 'daemontools', '--with', 'errno', '--json']);
    expect(jsonOf(back).patches).toEqual(['errno']);
    expect(back.stderr).toContain('djbpkg: choices: patch sets change: +errno (now: errno)\n');
  });

  it('other-boot-moves-hook: a different --boot moves the hook, a later reinstall keeps it; --boot none takes it away', async () => {
    const f = await manageFixture({ commands076: WITH_BOOT });
    const inittab = path.join(f.root, 'etc/inittab');
    const rclocal = path.join(f.root, 'etc/rc.local');
    expect((await f.run(['install', 'daemontools'])).code).toBe(0);
    expect(fenced(inittab)).toBe(true);
    const moved = await f.run(['install', 'daemontools', '--boot', 'rclocal']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stderr).toContain(`moved the svscanboot hook: removed djbpkg's inittab hook from ${inittab}`);
    expect(fenced(inittab)).toBe(false);
    expect(fenced(rclocal)).toBe(true);
    const doctor = await f.run(['doctor', '--json']);
    const boot = jsonOf(doctor).checks.find((c: { check: string }) => c.check === 'boot-line');
    expect(boot.detail).toBe(`svscanboot is started at boot exactly once: ${rclocal} (1)`);

    const kept = await f.run(['install', 'daemontools']);
    expect(kept.stderr).toContain('djbpkg: choices: keeping --boot rclocal from the last install\n');
    expect(fenced(inittab)).toBe(false);
    expect(fenced(rclocal)).toBe(true);

    expect((await f.run(['install', 'daemontools', '--boot', 'none'])).code).toBe(0);
    expect(fenced(rclocal)).toBe(false);
    const d = await f.run(['doctor', '--json']);
    expect(jsonOf(d).checks.find((c: { check: string }) => c.check === 'boot-line')).toMatchObject({ ok: true, detail: 'no svscanboot boot hook, as --boot none chose (djbpkg boot starts it by hand)' });
  });

  it('remove-takes-hook: removing the package that provides svscanboot takes its boot hook away', async () => {
    const f = await manageFixture({ commands076: WITH_BOOT });
    const inittab = path.join(f.root, 'etc/inittab');
    expect((await f.run(['install', 'daemontools'])).code).toBe(0);
    expect(fenced(inittab)).toBe(true);
    const r = await f.run(['remove', 'daemontools']);
    expect(r.code, r.stderr).toBe(0);
    expect(fenced(inittab)).toBe(false);
    expect(readFileSync(inittab, 'utf8')).toBe('id:2:initdefault:\n');
    expect(r.stderr).toContain('removed the svscanboot boot hook with the command it starts');
  });
});

describe('doctor and verify tell the truth', () => {
  it('hook-to-missing-command: doctor flags a hook whose /command/svscanboot is gone, and a dangling link', async () => {
    const f = await manageFixture({ commands076: WITH_BOOT });
    expect((await f.run(['install', 'daemontools'])).code).toBe(0);
    unlinkSync(path.join(f.pkg('0.76'), 'command/svscanboot'));
    const d = await f.run(['doctor', '--json']);
    expect(d.code).toBe(100);
    const by = Object.fromEntries(jsonOf(d).checks.map((c: { check: string }) => [c.check, c]));
    expect(by['boot-line'].detail).toBe(`the boot hook in ${f.root}/etc/inittab (1) starts ${f.root}/command/svscanboot, which is missing`);
    expect(by.links.detail).toContain(`${f.root}/command/svscanboot`);
  });

  it('leftovers: doctor reports what an interrupted run left (staging, {new}, a pending journal)', async () => {
    const f = await manageFixture();
    expect((await f.run(['install', 'daemontools'])).code).toBe(0);
    const staging = path.join(f.root, 'package/admin/.daemontools-0.76.staging-AbCdEf');
    mkdirSync(staging);
    const d = await f.run(['doctor', '--json']);
    const left = jsonOf(d).checks.find((c: { check: string }) => c.check === 'leftovers');
    expect(left).toMatchObject({ ok: false, detail: `left by an interrupted run: ${staging}` });
  });

  it('empty-root: verify does not say ok when nothing is installed, doctor never says "all 0"', async () => {
    const f = await manageFixture();
    expect((await f.run(['fetch', 'daemontools'])).code).toBe(0);
    const v = await f.run(['verify', 'daemontools']);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(`daemontools is not installed under ${f.root}/package: only the cached distfile was checked\n`);
    expect(v.stdout).not.toMatch(/^ok$/m);
    const d = await djbpkg(['doctor', '--root', tempDir()]);
    expect(d.code).toBe(100);
    expect(d.stdout).not.toContain('all 0');
    expect(d.stdout).toContain('PROBLEM links: nothing is installed under');
  });
});
