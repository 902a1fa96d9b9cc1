import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledRecipesDir, resolveRecipe } from '../../src/recipe/index.js';
import { failure } from '../support/errors.js';
import { writeRecipe } from '../support/recipe.js';
import { tempDir } from '../support/tmp.js';

const MD5 = 'a'.repeat(32);

function classic(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { distfile: 'tool-1.05.tar.gz', urls: ['http://127.0.0.1:9/tool-1.05.tar.gz'], md5: MD5, build: 'classic', commands: ['tool'], ...extra };
}

describe('recipes of the djb family', () => {
  it('bundles ucspi-tcp 0.88 and djbdns 1.05 as classic native-only builds with their errno patch sets and requirements', async () => {
    const ucspi = await resolveRecipe('ucspi-tcp', []);
    expect(ucspi).toMatchObject({
      category: 'net',
      version: '0.88',
      size: 53019,
      md5: '39b619147db54687c4a583a7a94c9163',
      sha256: '4a0615cab74886f5b4f7e8fd32933a07b955536a3476d74ea087a3ea66a23e9c',
      build: 'classic',
      builds: ['native'],
      top: 'ucspi-tcp-0.88',
      requires: [],
    });
    expect(ucspi.commands).toContain('tcpserver');
    expect(ucspi.commands).toContain('tcprules');
    expect(ucspi.patches.map((p) => [p.name, p.default, p.present, p.file])).toEqual([['errno', true, true, path.resolve(bundledRecipesDir(), '../patches/ucspi-tcp-0.88.errno.patch')]]);
    expect(ucspi.patches[0]!.description).toBe('errno: take errno from <errno.h>; ucspi-tcp 0.88 does not link on modern glibc without it');

    const djbdns = await resolveRecipe('djbdns@1.05', []);
    expect(djbdns).toMatchObject({ version: '1.05', size: 85648, md5: '3147c5cd56832aa3b41955c7a51cbeb2', build: 'classic', builds: ['native'], requires: ['daemontools', 'ucspi-tcp'] });
    expect(djbdns.sha256).toBe('3ccd826a02f3cde39be088e1fc6aed9fd57756b8f970de5dc99fcd2d92536b48');
    expect(djbdns.commands).toEqual(expect.arrayContaining(['tinydns', 'tinydns-data', 'tinydns-get', 'dnscache', 'dnscache-conf']));
    expect(djbdns.patches[0]!.present).toBe(true);

    const dt = await resolveRecipe('daemontools', []);
    expect(dt).toMatchObject({ build: 'slashpackage', builds: ['ts', 'native'], top: 'admin/daemontools-0.76', commands: undefined });
    expect(dt.sysdeps['linux-x64']).toContain('+flock');
  });

  it('defaults builds and top from the build type, and orders 1.05 after 1.4', async () => {
    const dir = tempDir();
    writeRecipe(dir, { name: 'tool', category: 'net', versions: { '1.05': classic(), '1.4': classic({ distfile: 'tool-1.4.tar.gz' }) } });
    const r = await resolveRecipe('tool', [dir]);
    expect(r).toMatchObject({ version: '1.05', builds: ['native'], top: 'tool-1.05', requires: [] });
    expect((await resolveRecipe('tool@^1.4', [dir])).version).toBe('1.05');
  });

  it('refuses a classic recipe without commands or with a ts build, classic fields on a slashpackage recipe, a self-requirement and an unknown build type', async () => {
    const dir = tempDir();
    const cases: [Record<string, unknown>, string][] = [
      [classic({ commands: undefined }), 'versions.1.05.commands: missing'],
      [classic({ builds: ['ts', 'native'] }), 'versions.1.05.builds: a classic build has no TypeScript runtime; only native'],
      [classic({ build: 'slashpackage' }), 'versions.1.05.commands: only for a classic build'],
      [classic({ requires: ['tool'] }), 'versions.1.05.requires: tool cannot require itself'],
      [classic({ build: 'autotools' }), 'versions.1.05.build:'],
      [classic({ requires: ['Not A Name'] }), 'versions.1.05.requires.0:'],
      [classic({ sysdeps: { linux: ['flock'] } }), 'versions.1.05.sysdeps.linux.0:'],
    ];
    for (const [v, msg] of cases) {
      writeRecipe(dir, { name: 'tool', category: 'net', versions: { '1.05': v } });
      const err = await failure(resolveRecipe('tool', [dir]));
      expect(err.code).toBe('E_RECIPE');
      expect(err.message).toContain(msg);
    }
  });
});
