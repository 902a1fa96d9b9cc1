import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonOf, manageFixture } from '../support/fixture.js';

describe('version switch', { timeout: 90_000 }, () => {
  it('installs 0.77 beside 0.76, switches the NAME link and the links, drops links of commands 0.77 lacks; remove @0.76 then leaves 0.77 working', async () => {
    const f = await manageFixture({ with077: true });
    await f.install('daemontools@0.76');
    expect(readlinkSync(path.join(f.root, 'command/envdir'))).toBe('../package/admin/daemontools/command/envdir');
    await f.install('daemontools@0.77');
    const link = path.join(f.root, 'package/admin/daemontools');
    expect(readlinkSync(link)).toBe('daemontools-0.77');
    expect(existsSync(f.pkg('0.76'))).toBe(true);
    expect(realpathSync(path.join(f.root, 'command/svok'))).toBe(realpathSync(path.join(f.pkg('0.77'), 'command/svok')));
    // 0.77 has no envdir: its links would dangle, so the switch took them away.
    expect(readdirSync(path.join(f.root, 'command')).sort()).toEqual(['svok']);
    expect(readdirSync(path.join(f.root, 'usr/local/bin')).sort()).toEqual(['svok']);
    const listed = jsonOf(await f.run(['list', '--json'])).packages[0];
    expect(listed.current).toBe('0.77');
    expect(listed.versions.map((v: { version: string; current: boolean }) => [v.version, v.current])).toEqual([
      ['0.76', false],
      ['0.77', true],
    ]);
    expect((await f.run(['verify', 'daemontools@0.77'])).code).toBe(0);

    const refuse = await f.run(['remove', 'daemontools@0.77']);
    expect(refuse.code).toBe(100);
    expect(refuse.stderr).toBe(
      'djbpkg: fatal: daemontools 0.77 is the current version; not removing it while other versions are installed\n' +
        `djbpkg: hint: switch first: djbpkg install daemontools@0.76 --root ${f.root} --recipes ${f.recipes}, then djbpkg remove daemontools@0.77 --root ${f.root}\n`,
    );

    const r = await f.run(['remove', 'daemontools@0.76']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`djbpkg: remove ${f.root}/package/admin/daemontools-0.76: done\n`);
    expect(existsSync(f.pkg('0.76'))).toBe(false);
    expect(readlinkSync(link)).toBe('daemontools-0.77');
    expect(lstatSync(path.join(f.root, 'command/svok')).isSymbolicLink()).toBe(true);
    const help = await f.run(['doctor', '--json']);
    expect(jsonOf(help).checks.find((c: { check: string }) => c.check === 'links').ok).toBe(true);

    // Switching back puts envdir's links back.
    await f.install('daemontools@0.76');
    expect(readlinkSync(link)).toBe('daemontools-0.76');
    expect(readFileSync(path.join(f.root, 'command/envdir'), 'utf8')).toContain('envdir');
    // Removing the only remaining non-current version, then the whole package.
    expect((await f.run(['remove', 'daemontools@0.77'])).code).toBe(0);
    expect((await f.run(['remove', 'daemontools'])).code).toBe(0);
    expect(readdirSync(path.join(f.root, 'command'))).toEqual([]);
  });
});
