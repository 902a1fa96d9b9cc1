import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manageFixture } from '../support/fixture.js';
import { DIST_BIN, djbpkg, run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

/** Every object under `dir`, recursively, as paths relative to it. */
function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(path.join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    out.push(r);
    if (lstatSync(path.join(dir, r)).isDirectory() && !lstatSync(path.join(dir, r)).isSymbolicLink()) out.push(...walk(dir, r));
  }
  return out;
}

const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) spawnSync('umount', [m]);
});

describe('arguments are checked before any work', () => {
  it('empty-root: an empty --root (an unset shell variable) is a usage error, never /', async () => {
    const cwd = tempDir();
    for (const args of [['install', 'daemontools', '--root', ''], ['doctor', '--root='], ['boot', '--stop', '--root']]) {
      const r = await djbpkg(args, { cwd });
      expect(r.code, args.join(' ')).toBe(100);
      expect(r.stderr).toMatch(/^djbpkg: fatal: --root is empty\ndjbpkg: hint: /);
    }
    const env = await djbpkg(['doctor'], { cwd, env: { DJBPKG_ROOT: '' } });
    expect(env.code).toBe(100);
    expect(env.stderr).toContain('DJBPKG_ROOT is set but empty');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('flag-as-root: --root followed by a flag is a usage error, not a directory named --with', async () => {
    const cwd = tempDir();
    const r = await djbpkg(['install', '--root', '--with', 'sigq12', 'daemontools'], { cwd });
    expect(r.code).toBe(100);
    expect(r.stderr).toBe('djbpkg: fatal: --root is followed by the option --with, not a directory\ndjbpkg: hint: give --root a directory: --root DIR\n');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('root-on-a-file: --root naming a file exits 100 (permanent)', async () => {
    const file = path.join(tempDir(), 'afile');
    writeFileSync(file, '');
    const r = await djbpkg(['install', 'daemontools', '--root', file]);
    expect(r.code).toBe(100);
    expect(r.stderr).toContain(`djbpkg: fatal: --root ${file}: not a directory`);
  });

  it('bad-options: --recipes that does not exist, --mirror not http(s), --lock-wait not a number, --boot unknown: one line and a hint, exit 100, nothing touched', async () => {
    const root = tempDir();
    const cases: [string[], string][] = [
      [['--recipes', '/nonexistent/recipes'], 'djbpkg: fatal: --recipes /nonexistent/recipes: ENOENT'],
      [['--mirror', 'not a url'], 'djbpkg: fatal: --mirror "not a url": not a URL'],
      [['--mirror', 'ftp://mirror.example/djb'], 'djbpkg: fatal: --mirror ftp://mirror.example/djb: only http and https URLs are fetched (not ftp)'],
      [['--lock-wait', 'abc'], 'djbpkg: fatal: --lock-wait abc: not a number of seconds'],
      [['--boot', 'upstart'], 'djbpkg: fatal: --boot upstart: not one of auto, inittab, rclocal, systemd, none'],
    ];
    for (const [extra, line] of cases) {
      const r = await djbpkg(['install', 'daemontools', '--root', root, ...extra]);
      expect(r.code, extra.join(' ')).toBe(100);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines[0]).toBe(line);
      expect(lines.length).toBe(2);
      expect(lines[1]).toMatch(/^djbpkg: hint: /);
    }
    expect(readdirSync(root)).toEqual([]);
  });

  it('unknown-verb: names the nearest verb', async () => {
    const r = await djbpkg(['instal', 'daemontools', '--root', tempDir()]);
    expect(r.code).toBe(100);
    expect(r.stderr).toBe('djbpkg: fatal: unknown command: instal\ndjbpkg: hint: did you mean djbpkg install? (djbpkg --help lists the commands)\n');
  });
});

describe('nothing is written through a planted symlink', () => {
  it('planted-part-symlink: a .part symlink in the cache is refused; its target is neither overwritten nor created', async () => {
    const f = await manageFixture();
    const dist = path.join(f.root, 'usr/local/djb/dist');
    mkdirSync(dist, { recursive: true });
    const victim = path.join(tempDir(), 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, path.join(dist, 'daemontools-0.76.tar.gz.part'));
    const r = await f.run(['fetch', 'daemontools']);
    expect(r.code).toBe(100);
    expect(r.stderr).toContain(`djbpkg: fatal: ${dist}/daemontools-0.76.tar.gz.part is a symlink; not reading or writing through it`);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    const dangling = path.join(tempDir(), 'nothing-here');
    const g = await manageFixture();
    const gdist = path.join(g.root, 'usr/local/djb/dist');
    mkdirSync(gdist, { recursive: true });
    symlinkSync(dangling, path.join(gdist, 'daemontools-0.76.tar.gz.part'));
    expect((await g.run(['install', 'daemontools'])).code).toBe(100);
    expect(existsSync(dangling)).toBe(false);
  });

  it('planted-cache-symlink: a cache entry that is a symlink is refused, and a fetched entry is a regular file', async () => {
    const f = await manageFixture();
    const dist = path.join(f.root, 'usr/local/djb/dist');
    mkdirSync(dist, { recursive: true });
    const elsewhere = path.join(tempDir(), 'elsewhere.tar.gz');
    writeFileSync(elsewhere, 'x');
    symlinkSync(elsewhere, path.join(dist, 'daemontools-0.76.tar.gz'));
    const r = await f.run(['fetch', 'daemontools']);
    expect(r.code).toBe(100);
    expect(readFileSync(elsewhere, 'utf8')).toBe('x');
    const g = await manageFixture();
    expect((await g.run(['fetch', 'daemontools'])).code).toBe(0);
    expect(lstatSync(path.join(g.root, 'usr/local/djb/dist/daemontools-0.76.tar.gz')).isFile()).toBe(true);
  });

  it('planted-rclocal-new: a stale rc.local{new} symlink is removed, not written through or chmod-ed; rc.local itself as a symlink is refused', async () => {
    const f = await manageFixture();
    const victim = path.join(tempDir(), 'victim');
    writeFileSync(victim, 'precious\n', { mode: 0o600 });
    symlinkSync(victim, path.join(f.root, 'etc/rc.local{new}'));
    const r = await f.run(['install', 'daemontools', '--boot', 'rclocal']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(victim).mode & 0o777).toBe(0o600);
    expect(lstatSync(path.join(f.root, 'etc/rc.local')).isFile()).toBe(true);
    expect(existsSync(path.join(f.root, 'etc/rc.local{new}'))).toBe(false);

    const g = await manageFixture();
    symlinkSync(victim, path.join(g.root, 'etc/rc.local'));
    const s = await g.run(['install', 'daemontools', '--boot', 'rclocal']);
    expect(s.code).toBe(100);
    expect(s.stderr).toContain(`${g.root}/etc/rc.local is not a regular file (a symlink); not writing through it`);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(existsSync(path.join(g.root, 'package/admin/daemontools-0.76'))).toBe(false);
  });

  it('planted-lock-symlink: a dangling lock symlink does not create its target', async () => {
    const f = await manageFixture();
    mkdirSync(path.join(f.root, 'var/lib/djbpkg'), { recursive: true });
    const target = path.join(tempDir(), 'made-by-djbpkg');
    symlinkSync(target, path.join(f.root, 'var/lib/djbpkg/lock'));
    const r = await f.run(['install', 'daemontools']);
    expect(r.code).toBe(100);
    expect(r.stderr).toContain('it is a symlink');
    expect(existsSync(target)).toBe(false);
  });

  it('root-subdir-escape: ROOT/etc as a symlink out of the root is refused before anything is written', async () => {
    const f = await manageFixture();
    const outside = tempDir();
    writeFileSync(path.join(outside, 'inittab'), 'id:2:initdefault:\n');
    const etc = path.join(f.root, 'etc');
    spawnSync('rm', ['-rf', etc]);
    symlinkSync(outside, etc);
    const r = await f.run(['install', 'daemontools']);
    expect(r.code).toBe(100);
    expect(r.stderr).toContain(`${etc} leads outside the root ${f.root}`);
    expect(readFileSync(path.join(outside, 'inittab'), 'utf8')).toBe('id:2:initdefault:\n');
    expect(existsSync(path.join(f.root, 'package'))).toBe(false);
  });
});

describe('modes, errors and messages', () => {
  it('umask-000: no world-writable file or directory is made, whatever the umask', async () => {
    const f = await manageFixture();
    const r = await run('/bin/sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, DIST_BIN + 'djbpkg.js', 'install', 'daemontools', '--root', f.root, '--recipes', f.recipes, '--mirror', f.mirror]);
    expect(r.code, r.stderr).toBe(0);
    const writable = walk(f.root).filter((p) => {
      const st = lstatSync(path.join(f.root, p));
      return !st.isSymbolicLink() && (st.mode & 0o002) !== 0;
    });
    expect(writable).toEqual([]);
  });

  it('read-only-root: EROFS exits 111 naming the cause and the host path', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('needs root to mount a read-only tmpfs');
    const f = await manageFixture();
    const mnt = path.join(tempDir(), 'ro');
    mkdirSync(mnt);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]).status).toBe(0);
    mounts.push(mnt);
    mkdirSync(path.join(mnt, 'etc'));
    writeFileSync(path.join(mnt, 'etc/inittab'), 'id:2:initdefault:\n');
    expect(spawnSync('mount', ['-o', 'remount,ro', mnt]).status).toBe(0);
    const r = await djbpkg(['install', 'daemontools', '--root', mnt, '--recipes', f.recipes, '--mirror', f.mirror]);
    expect(r.code).toBe(111);
    expect(r.stderr).toMatch(new RegExp(`^djbpkg: fatal: .*${mnt}/[^ ]*: EROFS$`, 'm'));
  });

  it('offline-corrupt-cache: says the bad copy was moved aside (not deleted) and how to get a good one', async () => {
    const f = await manageFixture();
    expect((await f.run(['fetch', 'daemontools'])).code).toBe(0);
    const cached = path.join(f.root, 'usr/local/djb/dist/daemontools-0.76.tar.gz');
    writeFileSync(cached, 'corrupt');
    const r = await f.run(['install', 'daemontools', '--offline']);
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/^djbpkg: fatal: the cached \S+ does not match the recipe \(size: recipe \d+, file 7; MD5: recipe [0-9a-f]{32}, file [0-9a-f]{32}; SHA-256: recipe [0-9a-f]{64}, file [0-9a-f]{64}\); moved it aside to \S+\.rejected; --offline forbids fetching it again$/m);
    expect(r.stderr).toContain(`moved it aside to ${cached}.rejected;`);
    expect(readFileSync(`${cached}.rejected`, 'utf8')).toBe('corrupt');
    expect(r.stderr).toContain('djbpkg: hint: run the same command without --offline to download it again');
  });

  it('host-paths: messages under --root name the host path, and a root with a space is quoted in hints', async () => {
    const f = await manageFixture();
    const spaced = path.join(tempDir(), 'my root');
    mkdirSync(path.join(spaced, 'etc'), { recursive: true });
    writeFileSync(path.join(spaced, 'etc/inittab'), 'id:2:initdefault:\n');
    const r = await djbpkg(['install', 'daemontools', '--root', spaced, '--recipes', f.recipes, '--mirror', f.mirror]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`added svscanboot line in ${spaced}/etc/inittab`);
    expect(r.stderr).toContain(`start it with: djbpkg boot --root '${spaced}'`);
    expect(r.stdout).toContain(`in ${spaced}/package/admin/daemontools-0.76`);
    expect(readlinkSync(path.join(spaced, 'command/svok'))).toBe('../package/admin/daemontools/command/svok');
  });
});
