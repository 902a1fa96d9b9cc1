import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { djbpkg } from '../support/run.js';
import type { RunResult } from '../support/run.js';
import { bench, leaveFree, leftovers, listing, removeSuiteDirs, tmpfsRoot, unmount } from '../support/txn.js';
import type { Bench } from '../support/txn.js';

/**
 * A real full disk during an upgrade, at several amounts of free space (so
 * that it runs out at different steps): the run names the lack of space,
 * exit 111, and its rollback completes in the same run (no journal left, no
 * ENOTEMPTY standing in for the real cause), the old install still verifies.
 */

let b: Bench;

async function cli(root: string, args: string[]): Promise<RunResult> {
  return djbpkg([...args, '--root', root, ...b.args]);
}

beforeAll(async () => {
  b = await bench();
}, 120_000);
afterAll(removeSuiteDirs);

/** A 16 MB tmpfs with 0.76 installed, filled to leave about `freeKb` KB. */
async function nearlyFull(freeKb: number): Promise<string> {
  const mnt = tmpfsRoot();
  const first = await cli(mnt, ['install', 'daemontools@0.76']);
  expect(first.code, first.stderr).toBe(0);
  leaveFree(mnt, freeKb);
  return mnt;
}

describe('upgrade on a nearly full disk', { timeout: 300_000 }, () => {
  for (const freeKb of [20, 100, 200, 400]) {
    for (const [label, spec, extra] of [
      ['upgrade 0.76 -> 0.77', 'daemontools@0.77', []],
      ['reinstall with other patches', 'daemontools@0.76', ['--without', 'errno']],
    ] as const) {
      it(`enospc-${freeKb}k: ${label} with ${freeKb} KB free: exit 111 naming the lack of space; rolled back in the same run; 0.76 still verifies`, async (ctx) => {
        if (process.getuid?.() !== 0) ctx.skip('mounting a tmpfs needs root');
        // Twice: the ENOTEMPTY masking showed in one run of two.
        for (let round = 0; round < 2; round++) {
          const mnt = await nearlyFull(freeKb);
          const before = listing(mnt).filter((l) => !l.startsWith('var/lib/djbpkg'));
          const r = await cli(mnt, ['install', spec, ...extra]);
          expect(r.code, r.stderr).toBe(111);
          const fatal = r.stderr.split('\n').find((l) => l.startsWith('djbpkg: fatal: '));
          expect(fatal, r.stderr).toMatch(/no space left on the device.*ENOSPC$/);
          expect(r.stderr).not.toMatch(/ENOTEMPTY|next djbpkg command|internal error/);
          expect(leftovers(mnt), r.stderr).toEqual([]);
          expect(listing(mnt).filter((l) => !l.startsWith('var/lib/djbpkg'))).toEqual(before);
          const v = await cli(mnt, ['verify', 'daemontools@0.76']);
          expect(v.code, v.stdout + v.stderr).toBe(0);
          unmount(mnt);
        }
      });
    }
  }
});

const REAL = process.env.DJBPKG_UPSTREAM_TARBALL;

describe.skipIf(!REAL)(`the real daemontools tarball on a nearly full disk${REAL ? '' : ' (skipped: DJBPKG_UPSTREAM_TARBALL is not set; .ci/run sets it)'}`, { timeout: 300_000 }, () => {
  // The asynchronous unpack of the real tree failed with ENOSPC and its clean-up raced
  // writes still in flight: `extract stage failed: ENOTEMPTY`, the staging dir left behind.
  it('enospc-real-extract: with 120, 200 and 450 KB free the unpack runs out of space: named as such, rolled back, old install verifies', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('mounting a tmpfs needs root');
    for (const freeKb of [120, 200, 450]) {
      const mnt = tmpfsRoot('16m', 'djbpkg-enospc-real-');
      const dist = path.join(mnt, 'usr/local/djb/dist');
      mkdirSync(dist, { recursive: true });
      copyFileSync(REAL!, path.join(dist, 'daemontools-0.76.tar.gz'));
      const real = (args: string[]) => djbpkg([...args, '--root', mnt, '--offline']);
      const first = await real(['install', 'daemontools']);
      expect(first.code, first.stderr).toBe(0);
      leaveFree(mnt, freeKb);
      const r = await real(['install', 'daemontools', '--without', 'errno']);
      expect(r.code, r.stderr).toBe(111);
      expect(r.stderr, `${freeKb} KB`).toMatch(/^djbpkg: fatal: .*no space left on the device: ENOSPC$/m);
      expect(r.stderr).not.toMatch(/ENOTEMPTY|next djbpkg command/);
      expect(leftovers(mnt)).toEqual([]);
      expect((await real(['verify', 'daemontools'])).code).toBe(0);
    }
  });
});

