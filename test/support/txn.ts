import { spawnSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { manageFixture } from './fixture.js';
import type { ManageFixture } from './fixture.js';
import { tempDir } from './tmp.js';

// Directories that live for a whole test file (templates shared by its tests); see removeSuiteDirs.
const suiteDirs: string[] = [];
export function suiteDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  suiteDirs.push(d);
  return d;
}
export function removeSuiteDirs(): void {
  for (const d of suiteDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

// The built djbpkg, in this process: what users run, without a Node start per
// command, so that every file-system step can be faulted in turn.
const cli = (await import(new URL('../../dist/cli/index.js', import.meta.url).href)) as typeof import('../../src/cli/index.js');
const rootMod = (await import(new URL('../../dist/core/root.js', import.meta.url).href)) as typeof import('../../src/core/root.js');
const seam = (await import(new URL('../../dist/posix/fsx.js', import.meta.url).href)) as typeof import('../../src/posix/fsx.js');

export interface InProc {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built djbpkg's main() in this process on `root`, with an optional fault at the seam. */
export async function djbpkgIn(root: string, args: string[], fault?: { spec?: string; log?: string }): Promise<InProc> {
  let stdout = '';
  let stderr = '';
  const saved = { f: process.env.DJBPKG_TEST_FAULT, l: process.env.DJBPKG_TEST_FAULT_LOG };
  if (fault?.spec) process.env.DJBPKG_TEST_FAULT = fault.spec;
  else delete process.env.DJBPKG_TEST_FAULT;
  if (fault?.log) process.env.DJBPKG_TEST_FAULT_LOG = fault.log;
  else delete process.env.DJBPKG_TEST_FAULT_LOG;
  seam.resetSteps();
  try {
    const code = await cli.main([...args, '--root', root], {
      root: new rootMod.Root(root),
      env: { PATH: process.env.PATH },
      stdout: { write: (t) => void (stdout += t), isTTY: false },
      stderr: { write: (t) => void (stderr += t), isTTY: false },
      now: () => Date.now(),
    });
    return { code, stdout, stderr };
  } finally {
    seam.resetSteps();
    if (saved.f === undefined) delete process.env.DJBPKG_TEST_FAULT;
    else process.env.DJBPKG_TEST_FAULT = saved.f;
    if (saved.l === undefined) delete process.env.DJBPKG_TEST_FAULT_LOG;
    else process.env.DJBPKG_TEST_FAULT_LOG = saved.l;
  }
}

/**
 * Every object under `dir` with its kind, mode, size and link target, except
 * the root lock (made by the first command and kept by design).
 */
export function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const n of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      if (r === 'var/lib/djbpkg/lock') continue;
      const st = lstatSync(path.join(dir, r));
      if (st.isSymbolicLink()) out.push(`${r} -> ${readlinkSync(path.join(dir, r))}`);
      else if (st.isDirectory()) {
        out.push(`${r}/ ${(st.mode & 0o7777).toString(8)}`);
        walk(r);
      } else out.push(`${r} ${(st.mode & 0o7777).toString(8)} ${st.size}`);
    }
  };
  walk('');
  return out;
}

/** What an interrupted transaction may leave: staging dirs, `{new}` names, removal asides, the journal. */
export function leftovers(dir: string): string[] {
  return listing(dir)
    .map((l) => l.split(' ')[0]!.replace(/\/$/, ''))
    .filter((p) => /\.staging-|\{new\}|\.removing|\{djbpkg-old\}/.test(p) || p === 'var/lib/djbpkg/txn' || p.startsWith('var/lib/djbpkg/txn/'));
}

export interface Bench {
  f: ManageFixture;
  distfiles: string;
  /** Common args: the fixture's recipes, the warmed cache, offline. */
  args: string[];
  /** A new root copied from `template`. */
  copy(template: string): string;
}

/** The 0.76/0.77 fixture with both distfiles fetched once into a shared cache; every later command is offline. */
export async function bench(): Promise<Bench> {
  const f = await manageFixture({ with077: true });
  const keep = suiteDir('djbpkg-txn-');
  const distfiles = path.join(keep, 'dist');
  for (const v of ['0.76', '0.77']) {
    const r = await f.run(['fetch', `daemontools@${v}`, '--distfiles', distfiles]);
    if (r.code !== 0) throw new Error(`fetch ${v}: ${r.stderr}`);
  }
  // The fixture's recipes and patches, kept for the whole file.
  cpSync(path.dirname(f.recipes), path.join(keep, 'fixture'), { recursive: true });
  const recipes = path.join(keep, 'fixture', path.basename(f.recipes));
  const args = ['--recipes', recipes, '--distfiles', distfiles, '--offline'];
  const base = path.join(keep, 'roots');
  mkdirSync(base);
  let n = 0;
  return {
    f,
    distfiles,
    args,
    copy(template) {
      const to = path.join(base, `r${++n}`);
      cpSync(template, to, { recursive: true, verbatimSymlinks: true });
      return to;
    },
  };
}

/** A root like the fixture's (an inittab), with its lock already made. */
export function emptyRoot(): string {
  const root = path.join(suiteDir('djbpkg-txn-root-'), 'root');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/inittab'), 'id:2:initdefault:\n');
  mkdirSync(path.join(root, 'var/lib/djbpkg'), { recursive: true });
  writeFileSync(path.join(root, 'var/lib/djbpkg/lock'), '');
  return root;
}

// Mounted by tmpfsRoot, unmounted after each test (before tmp.ts removes the directory under it).
const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) spawnSync('umount', [m]);
});

/** A root on a tmpfs of its own of `size` (as mount(8) takes it), with an inittab; unmounted after the test. Needs root. */
export function tmpfsRoot(size = '16m', prefix = 'djbpkg-enospc-'): string {
  const mnt = path.join(tempDir(prefix), 'root');
  mkdirSync(mnt);
  expect(spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt]).status).toBe(0);
  mounts.push(mnt);
  mkdirSync(path.join(mnt, 'etc'));
  writeFileSync(path.join(mnt, 'etc/inittab'), 'id:2:initdefault:\n');
  return mnt;
}

/** Unmounts a tmpfsRoot before the test ends. */
export function unmount(mnt: string): void {
  spawnSync('umount', [mnt]);
  mounts.splice(mounts.indexOf(mnt), 1);
}

/** Fills the file system holding `dir` with `dir/filler` until about `freeKb` KB are left. */
export function leaveFree(dir: string, freeKb: number): void {
  const avail = Number(spawnSync('df', ['--output=avail', '-k', dir], { encoding: 'utf8' }).stdout.trim().split('\n')[1]);
  spawnSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'filler')}`, 'bs=1k', `count=${avail - freeKb}`]);
}
