import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DjbError } from '../../src/core/errors.js';
import { extractArchive, scanArchive } from '../../src/install/extract.js';
import { tempDir } from '../support/tmp.js';
import { daemontoolsMembers, rawTarGz } from '../support/rawtar.js';
import type { RawMember } from '../support/rawtar.js';
import { treeListing } from '../support/tree.js';

const TOP = 'admin/daemontools-0.76';

function setup(members: RawMember[]): { base: string; archive: string; beside: string; outside: string } {
  const base = tempDir('djbpkg-extract-');
  const beside = path.join(base, 'root/package/admin');
  const outside = path.join(base, 'outside');
  mkdirSync(beside, { recursive: true });
  mkdirSync(outside);
  const archive = path.join(base, 'dist.tar.gz');
  writeFileSync(archive, rawTarGz(members));
  return { base, archive, beside, outside };
}

/** Scans and (if the scan passed) unpacks; returns the error, which every malicious case must produce. */
async function unpack(archive: string, beside: string): Promise<unknown> {
  try {
    const scan = await scanArchive(archive, TOP);
    await extractArchive(archive, scan, beside, 'daemontools-0.76');
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('extract', () => {
  it('unpacks a plain archive into a staging dir beside the final one, keeping modes like tar -xpf', async () => {
    const { archive, beside } = setup(daemontoolsMembers());
    const scan = await scanArchive(archive, TOP);
    expect(scan.commands).toEqual(['svc', 'svok', 'svstat']);
    const staged = await extractArchive(archive, scan, beside, 'daemontools-0.76');
    expect(path.dirname(staged.stagingDir)).toBe(beside);
    expect(path.basename(staged.stagingDir)).toMatch(/^\.daemontools-0\.76\.staging-/);
    expect(staged.tree).toBe(path.join(staged.stagingDir, TOP));
    expect(statSync(staged.tree).mode & 0o7777).toBe(0o1755);
    expect(statSync(path.join(staged.tree, 'package/install')).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(staged.tree, 'src/svc.c')).mode & 0o777).toBe(0o644);
    expect(readFileSync(path.join(staged.tree, 'src/error.h'), 'utf8')).toContain('extern int errno;');
  });

  const malicious: Record<string, (outside: string) => RawMember[]> = {
    'tar-absolute-name': (outside) => daemontoolsMembers({ extra: [{ name: `${outside}/pwned`, body: 'x' }] }),
    'tar-dotdot-component': () => daemontoolsMembers({ extra: [{ name: `${TOP}/../../../outside/pwned`, body: 'x' }] }),
    'tar-symlink-escape-then-write-through': () =>
      daemontoolsMembers({
        extra: [
          { name: `${TOP}/escape`, type: 'symlink', linkname: '../../../outside' },
          { name: `${TOP}/escape/pwned`, body: 'x' },
        ],
      }),
    'tar-symlink-absolute-target': (outside) => daemontoolsMembers({ extra: [{ name: `${TOP}/abs`, type: 'symlink', linkname: outside }] }),
    'tar-write-through-inside-symlink': () =>
      daemontoolsMembers({
        extra: [
          { name: `${TOP}/here`, type: 'symlink', linkname: 'src' },
          { name: `${TOP}/here/pwned`, body: 'x' },
        ],
      }),
    'tar-symlink-chain-escape': () =>
      daemontoolsMembers({
        extra: [
          { name: `${TOP}/dot`, type: 'symlink', linkname: '.' },
          { name: `${TOP}/up`, type: 'symlink', linkname: 'dot/..' },
        ],
      }),
    'tar-hardlink-outside': () => daemontoolsMembers({ extra: [{ name: `${TOP}/hard`, type: 'hardlink', linkname: '../outside/secret' }] }),
    'tar-hardlink-absolute': (outside) => daemontoolsMembers({ extra: [{ name: `${TOP}/hard`, type: 'hardlink', linkname: `${outside}/secret` }] }),
    'tar-char-device': () => daemontoolsMembers({ extra: [{ name: `${TOP}/null`, type: 'chardev' }] }),
    'tar-block-device': () => daemontoolsMembers({ extra: [{ name: `${TOP}/disk`, type: 'blockdev' }] }),
    'tar-fifo': () => daemontoolsMembers({ extra: [{ name: `${TOP}/fifo`, type: 'fifo' }] }),
    'tar-wrong-version-top': () => daemontoolsMembers({ top: 'admin/daemontools-0.75' }),
    'tar-wrong-category-top': () => daemontoolsMembers({ top: 'misc/daemontools-0.76' }).filter((m) => m.name !== 'admin/'),
    'tar-member-beside-top': () => daemontoolsMembers({ extra: [{ name: 'admin/other-1.0/x', body: 'x' }] }),
  };

  for (const [fixture, members] of Object.entries(malicious)) {
    it(`refuses ${fixture} with E_ARCHIVE and writes nothing`, async () => {
      const base = tempDir('djbpkg-extract-');
      const outside = path.join(base, 'outside');
      const { archive, beside, base: b2 } = setup(members(outside));
      mkdirSync(outside, { recursive: true });
      writeFileSync(path.join(outside, 'secret'), 'secret\n');
      const before = treeListing(b2);
      const beforeOutside = treeListing(outside);
      const err = await unpack(archive, beside);
      expect(err).toBeInstanceOf(DjbError);
      expect((err as DjbError).code).toBe('E_ARCHIVE');
      expect((err as DjbError).message).toMatch(/^refusing to unpack dist\.tar\.gz: /);
      expect(treeListing(b2)).toEqual(before);
      expect(treeListing(outside)).toEqual(beforeOutside);
    });
  }

  it('refuses a file that is not a tar archive', async () => {
    const base = tempDir('djbpkg-extract-');
    const archive = path.join(base, 'dist.tar.gz');
    writeFileSync(archive, 'this is not an archive\n'.repeat(40));
    const err = await unpack(archive, base);
    expect((err as DjbError).code).toBe('E_ARCHIVE');
  });
});
