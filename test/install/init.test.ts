import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { djbpkg } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { treeListing } from '../support/tree.js';

describe('djbpkg init', () => {
  it('makes /package 1755 and the conventional directories; a second run changes nothing', async () => {
    const root = tempDir();
    const r = await djbpkg(['init', '--root', root, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).changed).toBe(true);
    expect(statSync(path.join(root, 'package')).mode & 0o7777).toBe(0o1755);
    for (const d of ['var/svc.d', 'var/multilog', 'etc/tcprules']) expect(statSync(path.join(root, d)).isDirectory()).toBe(true);
    const before = treeListing(root);
    const again = await djbpkg(['init', '--root', root, '--json']);
    expect(JSON.parse(again.stdout).changed).toBe(false);
    expect(again.stderr).toMatch(/\/package exists; leaving it alone/);
    expect(treeListing(root)).toEqual(before);
  });

  it('--package-home DIR makes DIR 1755 and /package a link to it', async () => {
    const base = tempDir();
    const root = path.join(base, 'root');
    const home = path.join(base, 'bigdisk/package');
    const r = await djbpkg(['init', '--root', root, '--package-home', home]);
    expect(r.code).toBe(0);
    expect(lstatSync(path.join(root, 'package')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(root, 'package'))).toBe(home);
    expect(statSync(home).mode & 0o7777).toBe(0o1755);
  });

  it('--dry-run says what it would make and makes nothing', async () => {
    const root = tempDir();
    const r = await djbpkg(['init', '--root', root, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`djbpkg: would create ${root}/package with mode 1755\n`);
    expect(existsSync(path.join(root, 'package'))).toBe(false);
    expect(treeListing(root)).toEqual([]);
  });
});
