import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { djbpkg } from '../support/run.js';
import type { RunResult } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { bench, emptyRoot, leaveFree, leftovers, listing, removeSuiteDirs, tmpfsRoot } from '../support/txn.js';
import type { Bench } from '../support/txn.js';

/**
 * The real thing, in a real process: SIGKILL (`kill -9`) at chosen steps,
 * SIGINT/SIGTERM/SIGHUP as an admin sends them, and a real full disk.
 */

let b: Bench;
let installed076: string;

async function cli(root: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return djbpkg([...args, '--root', root, ...b.args], { env });
}

/** The steps a command takes from `template`, as the seam logs them (run on a copy). */
async function stepsOf(template: string, args: string[]): Promise<string[]> {
  const log = path.join(tempDir('djbpkg-int-log-'), 'steps');
  const r = await cli(b.copy(template), args, { DJBPKG_TEST_FAULT_LOG: log });
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(log, 'utf8').trim().split('\n');
}

function stepNumber(steps: string[], test: (op: string, p: string) => boolean): number {
  const i = steps.findIndex((l) => {
    const [, op, p] = l.split('\t');
    return test(op!, p!);
  });
  expect(i).toBeGreaterThanOrEqual(0);
  return i + 1;
}

/** Every /command link resolves (stat follows it). */
function commandsResolve(root: string): string[] {
  const dir = path.join(root, 'command');
  return readdirSync(dir).filter((n) => {
    try {
      statSync(path.join(dir, n));
      return false;
    } catch {
      return true;
    }
  });
}

beforeAll(async () => {
  b = await bench();
  installed076 = emptyRoot();
  const r = await cli(installed076, ['install', 'daemontools@0.76']);
  if (r.code !== 0) throw new Error(r.stderr);
}, 120_000);
afterAll(removeSuiteDirs);

describe('interruption', () => {

  it('kill-before-rename-new: killed (-9) just before renaming a link{new}, one rerun succeeds (a stale {new} is no error)', async () => {
    const template = emptyRoot();
    const steps = await stepsOf(template, ['install', 'daemontools@0.76']);
    const n = stepNumber(steps, (op, p) => op === 'rename' && p.endsWith('/command/svok'));
    const root = b.copy(template);
    const killed = await cli(root, ['install', 'daemontools@0.76'], { DJBPKG_TEST_FAULT: `${n}:kill` });
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(path.join(root, 'command/svok{new}'))).toBe(true);
    const again = await cli(root, ['install', 'daemontools@0.76']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('djbpkg: recovered an interrupted install of daemontools 0.76: rolled back\n');
    expect(leftovers(root)).toEqual([]);
    const v = await cli(root, ['verify', 'daemontools@0.76']);
    expect(v.code, v.stdout).toBe(0);
  });

  it('kill-in-tree-swap: killed (-9) around the tree exchange, no /command link ever dangles; the next command recovers', async () => {
    const args = ['install', 'daemontools@0.76', '--without', 'errno'];
    const steps = await stepsOf(installed076, args);
    const n = stepNumber(steps, (op) => op === 'exchange');
    for (const at of [n, n + 1]) {
      const root = b.copy(installed076);
      const killed = await cli(root, args, { DJBPKG_TEST_FAULT: `${at}:kill` });
      expect(killed.signal).toBe('SIGKILL');
      expect(commandsResolve(root)).toEqual([]);
      expect(existsSync(path.join(root, 'package/admin/daemontools-0.76/package/manifest'))).toBe(true);
      const d = await cli(root, ['doctor']);
      expect(d.stderr).toContain('djbpkg: recovered an interrupted install of daemontools 0.76: rolled back\n');
      expect(d.stdout).not.toContain('all 0');
      expect(leftovers(root)).toEqual([]);
      expect(readFileSync(path.join(root, 'package/admin/daemontools-0.76/package/patches'), 'utf8')).toBe('errno\n');
      const again = await cli(root, args);
      expect(again.code, again.stderr).toBe(0);
      expect((await cli(root, ['verify', 'daemontools@0.76'])).code).toBe(0);
    }
  });

  for (const sig of ['sigint', 'sigterm', 'sighup']) {
    it(`${sig}-undoes: ${sig.toUpperCase()} during install and remove undoes every change, then one fatal line, exit 111`, async () => {
      const template = emptyRoot();
      const steps = await stepsOf(template, ['install', 'daemontools@0.76']);
      const n = stepNumber(steps, (op) => op === 'extract');
      const root = b.copy(template);
      const before = listing(root);
      const r = await cli(root, ['install', 'daemontools@0.76'], { DJBPKG_TEST_FAULT: `${n}:${sig}` });
      expect(r.code).toBe(111);
      const fatal = r.stderr.split('\n').filter((l) => l.startsWith('djbpkg: fatal:'));
      expect(fatal).toEqual([`djbpkg: fatal: install of daemontools 0.76 interrupted by ${sig.toUpperCase()}; every change was undone`]);
      expect(listing(root)).toEqual(before);

      const inst = b.copy(installed076);
      const was = listing(inst);
      const rsteps = await stepsOf(installed076, ['remove', 'daemontools']);
      const m = stepNumber(rsteps, (op) => op === 'unlink');
      const rr = await cli(inst, ['remove', 'daemontools'], { DJBPKG_TEST_FAULT: `${m}:${sig}` });
      expect(rr.code).toBe(111);
      expect(rr.stderr).toContain(`djbpkg: fatal: remove of daemontools interrupted by ${sig.toUpperCase()}; every change was undone\n`);
      expect(listing(inst)).toEqual(was);
    });
  }
});

describe('a real full disk', () => {

  it('enospc-tmpfs: an install on a nearly full tmpfs fails with ENOSPC, exit 111, and leaves the root as it was', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('needs root to mount a tmpfs');
    const mnt = tmpfsRoot('400k');
    // Leave too little room for the unpacked tree and its runtime.
    spawnSync('dd', ['if=/dev/zero', `of=${path.join(mnt, 'filler')}`, 'bs=1k', 'count=300']);
    const before = listing(mnt).filter((l) => !l.startsWith('var'));
    const r = await cli(mnt, ['install', 'daemontools@0.76']);
    expect(r.code, r.stderr).toBe(111);
    expect(r.stderr).toMatch(/^djbpkg: fatal: .*ENOSPC$/m);
    expect(r.stderr).not.toContain('internal error');
    expect(listing(mnt).filter((l) => !l.startsWith('var'))).toEqual(before);
    expect(leftovers(mnt)).toEqual([]);
  });

  it('enospc-upgrade: a tree-swapping reinstall with 300 KB free fails with ENOSPC, exit 111; the installed tree stays and verifies', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('needs root to mount a tmpfs');
    const mnt = tmpfsRoot();
    const first = await cli(mnt, ['install', 'daemontools@0.76']);
    expect(first.code, first.stderr).toBe(0);
    leaveFree(mnt, 300);
    const before = listing(mnt);
    const r = await cli(mnt, ['install', 'daemontools@0.76', '--without', 'errno']);
    expect(r.code, r.stderr).toBe(111);
    expect(r.stderr).toMatch(/^djbpkg: fatal: .*ENOSPC$/m);
    expect(listing(mnt)).toEqual(before);
    expect(leftovers(mnt)).toEqual([]);
    expect((await cli(mnt, ['verify', 'daemontools@0.76'])).code).toBe(0);
  });
});
