import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DjbError } from '../../src/core/errors.js';
import { isDir, isFile, lexists, mkdirs, reaches, regularFileSize, replaceFile, restoreFile, sha256File } from '../../src/core/fs.js';
import { outsideRoot, requireInsideRoot } from '../../src/core/confine.js';
import { inside, Root, shellQuote } from '../../src/core/root.js';
import { tempDir } from '../support/tmp.js';

describe('core/fs: the one home of each file-system primitive', () => {
  it('tells "something is there" (lexists) from "something, a file or a directory is reached" (reaches, isFile, isDir)', async () => {
    const d = tempDir('djbpkg-corefs-');
    writeFileSync(path.join(d, 'file'), 'abc');
    mkdirSync(path.join(d, 'dir'));
    symlinkSync('file', path.join(d, 'to-file'));
    symlinkSync('nowhere', path.join(d, 'dangling'));
    expect(await lexists(path.join(d, 'dangling'))).toBe(true);
    expect(await isFile(path.join(d, 'dangling'))).toBe(false);
    expect(await isFile(path.join(d, 'to-file'))).toBe(true);
    expect(await isFile(path.join(d, 'dir'))).toBe(false);
    expect(await isDir(path.join(d, 'dir'))).toBe(true);
    expect(await lexists(path.join(d, 'absent'))).toBe(false);
    // reaches: anything at the end of the symlinks (doctor's dangling-link check).
    expect(await reaches(path.join(d, 'dangling'))).toBe(false);
    expect(await reaches(path.join(d, 'to-file'))).toBe(true);
    expect(await reaches(path.join(d, 'dir'))).toBe(true);
    // The size of a regular file itself: a symlink to one is not followed.
    expect(await regularFileSize(path.join(d, 'file'))).toBe(3);
    expect(await regularFileSize(path.join(d, 'to-file'))).toBe(0);
    expect(await regularFileSize(path.join(d, 'absent'))).toBe(0);
  });

  it('hashes a file as sha256sum does', async () => {
    const d = tempDir('djbpkg-corefs-');
    const f = path.join(d, 'big');
    writeFileSync(f, Buffer.alloc(300_000, 7));
    const want = execFileSync('sha256sum', [f]).toString().split(' ')[0];
    expect(await sha256File(f)).toBe(want);
  });

  it('mkdirs makes every missing level, tells its hooks of each, and accepts a level that is already there', async () => {
    const d = tempDir('djbpkg-corefs-');
    const made: string[] = [];
    await mkdirs(path.join(d, 'a/b/c'), { mode: 0o700, made: (p) => made.push(p) });
    expect(made).toEqual([path.join(d, 'a'), path.join(d, 'a/b'), path.join(d, 'a/b/c')]);
    expect(statSync(path.join(d, 'a/b/c')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(d, 'a/b')).mode & 0o777).toBe(0o755);
    made.length = 0;
    await mkdirs(path.join(d, 'a/b/c'), { made: (p) => made.push(p) });
    expect(made).toEqual([]);
    // Someone else creating the level at the same moment (EEXIST) is no failure.
    await mkdirs(path.join(d, 'x'), { before: async (p) => void mkdirSync(p) });
    expect(statSync(path.join(d, 'x')).isDirectory()).toBe(true);
  });

  it('mkdirs under a file fails with one line naming the directory', async () => {
    const d = tempDir('djbpkg-corefs-');
    writeFileSync(path.join(d, 'f'), '');
    const err = await mkdirs(path.join(d, 'f/sub')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DjbError);
    expect((err as DjbError).message).toContain(`unable to create ${path.join(d, 'f/sub')}`);
  });

  it('replaceFile keeps mode, refuses to write through a symlink, and restoreFile puts the old bytes back', async () => {
    const d = tempDir('djbpkg-corefs-');
    const f = path.join(d, 'rc.local');
    writeFileSync(f, 'old\n');
    chmodSync(f, 0o750);
    const before = await replaceFile(f, 'new\n', 0o644);
    expect(readFileSync(f, 'utf8')).toBe('new\n');
    expect(statSync(f).mode & 0o777).toBe(0o750);
    await restoreFile(before);
    expect(readFileSync(f, 'utf8')).toBe('old\n');
    // A file that was not there is removed again.
    const g = path.join(d, 'fresh');
    await restoreFile(await replaceFile(g, 'x', 0o644));
    expect(await lexists(g)).toBe(false);
    // A symlink is never written through: its target keeps its bytes.
    const target = path.join(d, 'target');
    writeFileSync(target, 'precious');
    symlinkSync(target, path.join(d, 'link'));
    const err = await replaceFile(path.join(d, 'link'), 'evil', 0o644).catch((e: unknown) => e);
    expect((err as DjbError).message).toMatch(/is not a regular file \(a symlink\)/);
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(lstatSync(path.join(d, 'link')).isSymbolicLink()).toBe(true);
  });
});

describe('core/confine and core/root: paths stay inside ROOT', () => {
  it('refuses a path that leads out of ROOT through a symlink someone planted', () => {
    const d = tempDir('djbpkg-coreconfine-');
    const outside = tempDir('djbpkg-coreoutside-');
    const root = new Root(d);
    mkdirSync(path.join(d, 'var'));
    symlinkSync(outside, path.join(d, 'var/svc.d'));
    expect(outsideRoot(root, path.join(d, 'var/svc.d/web/run'))).toMatch(/leads out of ROOT through a symlink/);
    expect(outsideRoot(root, path.join(d, 'var/other/run'))).toBeUndefined();
    expect(outsideRoot(root, '/etc/passwd')).toMatch(/lies outside ROOT/);
    expect(outsideRoot(root, `${d}/var/../../etc`)).toMatch(/absolute, normal/);
    // Without followLast the last component is not followed (the caller lstats or unlinks it).
    expect(outsideRoot(root, path.join(d, 'var/svc.d'))).toBeUndefined();
    expect(outsideRoot(root, path.join(d, 'var/svc.d'), true)).toMatch(/leads out/);
    expect(() => requireInsideRoot(root, path.join(d, 'var/svc.d/x'), 'the service')).toThrow(/not acting on the service/);
  });

  it('joins relative paths only inside their base, and quotes hints for a shell', () => {
    expect(inside('/package/admin', 'daemontools-0.76/src')).toBe('/package/admin/daemontools-0.76/src');
    expect(() => inside('/package/admin', '../../etc')).toThrow(/leaves/);
    expect(() => inside('/package/admin', '/etc')).toThrow(/must be relative/);
    expect(shellQuote('/tmp/plain-path_1.2')).toBe('/tmp/plain-path_1.2');
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  });
});
