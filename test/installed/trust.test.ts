import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { manageFixture } from '../support/fixture.js';
import type { ManageFixture } from '../support/fixture.js';
import { tempDir } from '../support/tmp.js';

/**
 * A journal planted in a root someone else prepared is replayed as root only
 * as far as djbpkg can have written it itself: owner, mode, and every path
 * inside ROOT (backups only from the journal's own directory).
 */

interface Planted {
  dir: string;
  journal: string;
}

/** Writes `records` as ROOT's journal the way djbpkg writes one (0700 dir, 0600 file), plus backup files. */
function plant(root: string, records: object[], backups: Record<string, string> = {}): Planted {
  const dir = path.join(root, 'var/lib/djbpkg/txn');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  for (const [n, body] of Object.entries(backups)) writeFileSync(path.join(dir, n), body, { mode: 0o600 });
  const journal = path.join(dir, 'journal');
  writeFileSync(journal, records.map((r) => JSON.stringify(r) + '\n').join(''), { mode: 0o600 });
  chmodSync(journal, 0o600);
  return { dir, journal };
}

const BEGIN = { op: 'begin', kind: 'remove', what: 'daemontools', pid: 1 };

async function installed(): Promise<ManageFixture> {
  const f = await manageFixture();
  await f.install('daemontools@0.76');
  return f;
}

/** The run refused the journal: exit 100, one fatal line naming `what`, nothing done, the journal still there. */
async function expectRefused(f: ManageFixture, p: Planted, what: RegExp): Promise<void> {
  const before = readFileSync(p.journal, 'utf8');
  const r = await f.run(['remove', 'daemontools']);
  expect(r.code, r.stderr).toBe(100);
  const lines = r.stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^djbpkg: fatal: refusing the journal .*\/var\/lib\/djbpkg\/txn\/journal: /);
  expect(lines[0]).toMatch(what);
  expect(lines.slice(1).every((l) => l.startsWith('djbpkg: hint: '))).toBe(true);
  expect(r.stderr).not.toMatch(/recovered|at .*\.js:/);
  expect(readFileSync(p.journal, 'utf8')).toBe(before);
  // Nothing was done: the package is still installed.
  expect(existsSync(path.join(f.pkg('0.76'), 'package/commands'))).toBe(true);
  const d = await f.run(['doctor']);
  expect(d.stdout + d.stderr).toMatch(/not replayed: refusing the journal/);
  expect(d.stdout + d.stderr).toContain('docs/trust.md');
}

describe('planted journals', { timeout: 60_000 }, () => {
  it('journal-file-outside: a file record whose path lies outside ROOT is refused; the outside file is not created', async () => {
    const f = await installed();
    const outside = path.join(tempDir('djbpkg-outside-'), 'victim');
    const dir = path.join(f.root, 'var/lib/djbpkg/txn');
    const p = plant(f.root, [BEGIN, { op: 'file', path: outside, backup: path.join(dir, 'backup-1'), mode: 0o4755, uid: 0, gid: 0 }], { 'backup-1': 'owned\n' });
    await expectRefused(f, p, /record 2 \(file\): path .*victim lies outside ROOT/);
    expect(existsSync(outside)).toBe(false);
  });

  it('journal-backup-outside: a backup that is not in the journal directory is refused (its bytes are not copied in)', async () => {
    const f = await installed();
    const secret = path.join(tempDir('djbpkg-outside-'), 'secret');
    writeFileSync(secret, 'secret\n');
    const inRoot = path.join(f.root, 'etc/copied');
    const p = plant(f.root, [BEGIN, { op: 'file', path: inRoot, backup: secret, mode: 0o644, uid: 0, gid: 0 }]);
    await expectRefused(f, p, /record 2 \(file\): backup .* is not a backup in the journal directory/);
    expect(existsSync(inRoot)).toBe(false);
    // A backup named like one but a symlink to the secret is refused too.
    const g = await installed();
    const gdir = path.join(g.root, 'var/lib/djbpkg/txn');
    const q = plant(g.root, [BEGIN, { op: 'file', path: path.join(g.root, 'etc/copied'), backup: path.join(gdir, 'backup-1'), mode: 0o644, uid: 0, gid: 0 }]);
    symlinkSync(secret, path.join(gdir, 'backup-1'));
    await expectRefused(g, q, /backup .*backup-1 is not a regular file/);
    expect(existsSync(path.join(g.root, 'etc/copied'))).toBe(false);
  });

  it('journal-moved-outside: a committed moved record whose aside is outside ROOT is refused; the outside directory is not removed', async () => {
    const f = await installed();
    const outside = tempDir('djbpkg-outside-');
    mkdirSync(path.join(outside, 'precious'));
    writeFileSync(path.join(outside, 'precious/data'), 'keep\n');
    const p = plant(f.root, [BEGIN, { op: 'moved', path: path.join(f.root, 'package/admin/x'), aside: path.join(outside, 'precious') }, { op: 'commit' }]);
    await expectRefused(f, p, /record 2 \(moved\): aside .*precious lies outside ROOT/);
    expect(readFileSync(path.join(outside, 'precious/data'), 'utf8')).toBe('keep\n');
  });

  it('journal-symlink-out: a path inside ROOT by its name but through a symlinked directory leading out is refused', async () => {
    const f = await installed();
    const outside = tempDir('djbpkg-outside-');
    mkdirSync(path.join(outside, 'precious'));
    writeFileSync(path.join(outside, 'precious/data'), 'keep\n');
    symlinkSync(outside, path.join(f.root, 'var/escape'));
    const p = plant(f.root, [BEGIN, { op: 'aside', path: path.join(f.root, 'var/x'), aside: path.join(f.root, 'var/escape/precious') }, { op: 'commit' }]);
    await expectRefused(f, p, /record 2 \(aside\): aside .*var\/escape\/precious leads out of ROOT through a symlink/);
    expect(readFileSync(path.join(outside, 'precious/data'), 'utf8')).toBe('keep\n');
    // Through a symlinked directory on the way to a file that would be created.
    const g = await installed();
    symlinkSync(outside, path.join(g.root, 'var/escape'));
    const gdir = path.join(g.root, 'var/lib/djbpkg/txn');
    const q = plant(g.root, [BEGIN, { op: 'file', path: path.join(g.root, 'var/escape/new'), backup: path.join(gdir, 'backup-1'), mode: 0o644, uid: 0, gid: 0 }], { 'backup-1': 'x\n' });
    await expectRefused(g, q, /leads out of ROOT through a symlink/);
    expect(existsSync(path.join(outside, 'new'))).toBe(false);
  });

  it('journal-owner-mode: a journal owned by another user, with mode 0644, or in a directory open to others is refused', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('chown to another user needs root');
    const f = await installed();
    const p = plant(f.root, [BEGIN]);
    chownSync(p.journal, 65534, 65534);
    await expectRefused(f, p, /it is owned by uid 65534, not by the user running djbpkg/);
    const g = await installed();
    const q = plant(g.root, [BEGIN]);
    chmodSync(q.journal, 0o644);
    await expectRefused(g, q, /it has mode 0644, not 0600/);
    const h = await installed();
    const s = plant(h.root, [BEGIN]);
    chmodSync(s.dir, 0o755);
    await expectRefused(h, s, /txn has mode 0755, not 0700/);
    const k = await installed();
    const t = plant(k.root, [BEGIN]);
    chownSync(t.dir, 65534, 65534);
    await expectRefused(k, t, /txn is owned by uid 65534/);
  });

  it('journal-trusted: a journal djbpkg could have written (paths inside ROOT, backup in its dir) is still replayed', async () => {
    const f = await installed();
    const dir = path.join(f.root, 'var/lib/djbpkg/txn');
    const target = path.join(f.root, 'etc/inittab');
    const p = plant(f.root, [BEGIN, { op: 'file', path: target, backup: path.join(dir, 'backup-1'), mode: 0o644, uid: -1, gid: -1 }], { 'backup-1': 'restored\n' });
    const r = await f.run(['list']);
    expect(r.stderr).toContain('recovered an interrupted remove of daemontools: rolled back');
    expect(readFileSync(target, 'utf8')).toBe('restored\n');
    expect(existsSync(p.dir)).toBe(false);
  });

  it('journal-package-home: a run\'s own journal through a package home outside ROOT (init --package-home) is still finished in that run', async () => {
    const f = await manageFixture();
    const home = path.join(tempDir('djbpkg-bigdisk-'), 'package');
    expect((await f.run(['init', '--package-home', home])).code).toBe(0);
    for (const args of [['install', 'daemontools'], ['install', 'daemontools', '--without', 'errno']]) {
      const r = await f.run(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/rollback|commit: warning|refusing|next djbpkg command/);
      expect(existsSync(path.join(f.root, 'var/lib/djbpkg/txn'))).toBe(false);
    }
    expect(existsSync(path.join(home, 'admin/daemontools-0.76/package/commands'))).toBe(true);
  });
});
