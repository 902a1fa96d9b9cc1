import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './tmp.js';
import { bench, djbpkgIn, emptyRoot, leftovers, listing, removeSuiteDirs } from './txn.js';
import type { Bench } from './txn.js';

/**
 * The fault-injection suite (run by faults-*.test.ts, one file per scenario): every file-system step of install (fresh, version
 * switch, same-version reinstall that swaps the tree) and of remove is, in
 * turn, the point where the run dies (`crash`: that step and every later one
 * fails, as a kill would leave the disk) or fails once with ENOSPC, EIO or
 * EACCES. After each: a failed run has put the root back exactly; a crashed
 * one is put back by the next command; one rerun then succeeds and leaves
 * the same tree as a clean run (which verify passes), and nothing is left over.
 */

const ERRNOS = ['ENOSPC', 'EIO', 'EACCES'] as const;

export interface Scenario {
  name: string;
  /** The root the command starts from. */
  template: () => Promise<string>;
  command: string[];
  /** After the successful rerun. */
  check: (root: string) => Promise<void>;
}

let b: Bench;
const templates = new Map<string, string>();

async function installed(spec: string, extra: string[] = []): Promise<string> {
  const key = [spec, ...extra].join(' ');
  const have = templates.get(key);
  if (have) return have;
  const root = emptyRoot();
  const r = await djbpkgIn(root, ['install', spec, ...extra, ...b.args]);
  if (r.code !== 0) throw new Error(`template ${key}: ${r.stderr}`);
  templates.set(key, root);
  return root;
}

async function verifies(root: string, spec: string): Promise<void> {
  const v = await djbpkgIn(root, ['verify', spec, ...b.args]);
  expect(v.stderr + v.stdout).toContain('every installed file matches its manifest');
  expect(v.code).toBe(0);
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'fresh install',
    template: async () => emptyRoot(),
    command: ['install', 'daemontools@0.76'],
    check: (root) => verifies(root, 'daemontools@0.76'),
  },
  {
    name: 'upgrade 0.76 -> 0.77',
    template: () => installed('daemontools@0.76'),
    command: ['install', 'daemontools@0.77'],
    check: (root) => verifies(root, 'daemontools@0.77'),
  },
  {
    name: 'reinstall 0.76 with other patch sets (tree exchange)',
    template: () => installed('daemontools@0.76'),
    command: ['install', 'daemontools@0.76', '--without', 'errno'],
    check: (root) => verifies(root, 'daemontools@0.76'),
  },
  {
    name: 'remove',
    template: () => installed('daemontools@0.76'),
    command: ['remove', 'daemontools'],
    check: async (root) => {
      const l = await djbpkgIn(root, ['list', ...b.args]);
      expect(l.stdout).not.toContain('daemontools');
    },
  },
];

/** Listing with the sysdeps report's size left out (it names the root). */
function shape(root: string): string[] {
  return listing(root).map((l) => (/compile\/sysdeps /.test(l) ? l.replace(/ \d+$/, '') : l));
}

/** The numbered steps the command takes from `template`, and the root it leaves (checked by the real verify). */
async function steps(s: Scenario, template: string): Promise<{ steps: string[]; after: string[] }> {
  const log = path.join(tempDir('djbpkg-txn-log-'), 'steps');
  const root = b.copy(template);
  const r = await djbpkgIn(root, [...s.command, ...b.args], { log });
  expect(r.code, r.stderr).toBe(0);
  await s.check(root);
  return { steps: readFileSync(log, 'utf8').trim().split('\n'), after: shape(root) };
}

/** The suite for one scenario (one test file each, so that vitest can run them side by side). */
export function faultSuite(name: string): void {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${name}`);
  describe('fault injection at every file-system step', () => {
    beforeAll(async () => {
      b = await bench();
    }, 120_000);
    afterAll(removeSuiteDirs);
    it(`${s.name}: a crash or an error at any step leaves the root as it was (at once, or after the next command), and one rerun succeeds`, async () => {
      const template = await s.template();
      const before = shape(template);
      const { steps: all, after } = await steps(s, template);
      expect(all.length).toBeGreaterThan(5);
      const failures: string[] = [];
      // From the commit on, the change is made: what is left is clean-up, and the outcome is the new state.
      const commitAt = all.findIndex((l) => l.split('\t')[1] === 'commit') + 1;
      expect(commitAt).toBeGreaterThan(0);
      for (let n = 1; n <= all.length; n++) {
        for (const kind of ['crash', ERRNOS[n % ERRNOS.length]!]) {
          const at = `step ${all[n - 1]} (${kind})`;
          const committed = n > commitAt;
          const root = b.copy(template);
          const r = await djbpkgIn(root, [...s.command, ...b.args], { spec: `${n}:${kind}` });
          const fatal = r.stderr.split('\n').filter((l) => l.startsWith('djbpkg: fatal:')).length;
          if (committed ? r.code !== 0 && r.code !== 111 : r.code !== 111) failures.push(`${at}: exit ${r.code}: ${r.stderr}`);
          if (fatal !== (r.code === 0 ? 0 : 1)) failures.push(`${at}: ${fatal} fatal lines: ${r.stderr}`);
          // The next command on the root, whatever it is, recovers first.
          if (existsSync(path.join(root, 'var/lib/djbpkg/txn'))) {
            const l = await djbpkgIn(root, ['list', ...b.args]);
            if (!l.stderr.includes('djbpkg: recovered an interrupted') || l.stderr.includes('warning')) failures.push(`${at}: list did not recover: ${l.stderr}`);
          }
          const want = committed ? after : before;
          const now = shape(root);
          if (JSON.stringify(now) !== JSON.stringify(want)) {
            failures.push(`${at}: root differs: ${now.filter((x) => !want.includes(x)).join(', ')} | gone: ${want.filter((x) => !now.includes(x)).join(', ')}`);
          }
          const again = await djbpkgIn(root, [...s.command, ...b.args]);
          if (again.code !== 0 && !(committed && s.command[0] === 'remove')) failures.push(`${at}: rerun exit ${again.code}: ${again.stderr}`);
          // The same objects, modes, sizes and links as after a run that verify passed.
          else if (JSON.stringify(shape(root)) !== JSON.stringify(after)) failures.push(`${at}: rerun left another tree than a clean run`);
          const left = leftovers(root);
          if (left.length) failures.push(`${at}: left over: ${left.join(' ')}`);
          rmSync(root, { recursive: true, force: true });
        }
      }
      expect(failures).toEqual([]);
    }, 600_000);
  });
}
