import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPatchSets } from '../../src/install/patch.js';
import { PROJECT, run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { pollUntil, startProcess } from '../support/procs.js';

/**
 * Checks against the real daemontools 0.76 sources, which the project never
 * ships. DJBPKG_REAL_TREE names an `admin/daemontools-0.76` directory (or a
 * directory holding `admin/daemontools-0.76`) or the distfile tarball.
 */
const REAL = process.env.DJBPKG_REAL_TREE;
const WHY = REAL ? `DJBPKG_REAL_TREE=${REAL}` : 'skipped: DJBPKG_REAL_TREE is not set';

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(path.join(dir, cmd)));
}
const HAVE_CC = onPath('cc');
const HAVE_PATCH = onPath('patch');

const SETS = ['errno', 'sigq12'].map((name) => ({
  name,
  file: path.join(PROJECT, 'patches', `daemontools-0.76.${name}.patch`),
}));

/** A fresh pristine copy of the real tree; returns its `admin/daemontools-0.76` path. */
async function pristineCopy(): Promise<string> {
  const src = path.resolve(REAL as string);
  const scratch = tempDir('djbpkg-real-tree-');
  let tree: string;
  if (statSync(src).isFile()) {
    const untar = await run('tar', ['-xf', src, '-C', scratch]);
    expect(untar.stderr).toBe('');
    expect(untar.code).toBe(0);
    tree = path.join(scratch, 'admin', 'daemontools-0.76');
  } else {
    const from = existsSync(path.join(src, 'src', 'svc.c')) ? src : path.join(src, 'admin', 'daemontools-0.76');
    tree = path.join(scratch, 'admin', 'daemontools-0.76');
    cpSync(from, tree, { recursive: true });
  }
  const errorH = readFileSync(path.join(tree, 'src', 'error.h'), 'utf8');
  expect(errorH, `${REAL} must be the pristine 0.76 tree`).toContain('extern int errno;');
  return tree;
}

describe(`the patch sets on the real daemontools 0.76 tree (${WHY})`, () => {
  it.skipIf(!REAL || !HAVE_PATCH)(
    `GNU patch -p1 --dry-run accepts both patch files, and its result matches ours byte for byte${HAVE_PATCH ? '' : ' (skipped: no patch(1))'}`,
    async () => {
      const ours = await pristineCopy();
      const gnu = await pristineCopy();
      for (const set of SETS) {
        const dry = await run('patch', ['-p1', '--dry-run', '-d', gnu, '-i', set.file]);
        expect(dry.code, dry.stdout + dry.stderr).toBe(0);
        const real = await run('patch', ['-p1', '-s', '-d', gnu, '-i', set.file]);
        expect(real.code, real.stdout + real.stderr).toBe(0);
      }
      await applyPatchSets(ours, SETS);
      for (const rel of ['src/error.h', 'src/svc.c', 'src/supervise.c', 'src/rts.tests']) {
        expect(readFileSync(path.join(ours, rel), 'latin1'), rel).toBe(readFileSync(path.join(gnu, rel), 'latin1'));
      }
    },
  );

  it.skipIf(!REAL)('our applier patches the pristine tree, then finds both sets already applied', async () => {
    const tree = await pristineCopy();
    const first = await applyPatchSets(tree, SETS);
    expect(first).toEqual([
      { name: 'errno', status: 'applied', files: ['src/error.h'], strip: 1 },
      { name: 'sigq12', status: 'applied', files: ['src/rts.tests', 'src/supervise.c', 'src/svc.c'], strip: 1 },
    ]);
    const again = await applyPatchSets(tree, SETS);
    expect(again.map((r) => r.status)).toEqual(['already-applied', 'already-applied']);
  });

  it.skipIf(!REAL || !HAVE_CC)(
    `patched with errno+sigq12 it compiles with cc, svc's usage names -q -1 -2, and svc -1 -2 -q signal the service${HAVE_CC ? '' : ' (skipped: no cc)'}`,
    async () => {
      const tree = await pristineCopy();
      await applyPatchSets(tree, SETS);
      const compile = await run(path.join(tree, 'package', 'compile'), [], { cwd: tree, timeoutMs: 180_000 });
      expect(compile.code, compile.stderr.slice(-2000)).toBe(0);
      const command = (name: string): string => path.join(tree, 'command', name);
      for (const name of readFileSync(path.join(tree, 'package', 'commands'), 'utf8').trim().split('\n')) {
        expect(existsSync(command(name)), name).toBe(true);
      }

      const usage = await run(command('svc'), ['-z']);
      expect(usage.code).toBe(100);
      expect(usage.stderr).toBe(
        'svc: illegal option -- z\n' +
          'svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill, q quit, 1 usr1, 2 usr2\n',
      );

      const base = tempDir('djbpkg-real-svc-');
      const service = path.join(base, 'sig');
      const log = path.join(base, 'signals');
      mkdirSync(service);
      writeFileSync(
        path.join(service, 'run'),
        [
          '#!/bin/sh',
          `trap 'echo USR1 >> ${log}' USR1`,
          `trap 'echo USR2 >> ${log}' USR2`,
          `trap 'echo QUIT >> ${log}' QUIT`,
          `trap 'kill $!; exit 0' TERM`,
          `echo "started $$" >> ${log}`,
          'while :; do sleep 1 & wait; done',
          '',
        ].join('\n'),
      );
      chmodSync(path.join(service, 'run'), 0o755);
      // supervise leads a process group of its own, which its service and the service's children share: all killed after the test.
      const supervise = startProcess(command('supervise'), [service], { stdio: ['ignore', 'ignore', 'ignore'] }).child;
      const readLog = (): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');
      await pollUntil('the service to start', () => /started \d+\n/.test(readLog()));

      for (const [opt, sig] of [['-1', 'USR1'], ['-2', 'USR2'], ['-q', 'QUIT']] as const) {
        const svc = await run(command('svc'), [opt, service]);
        expect(svc.code).toBe(0);
        expect(svc.stderr).toBe('');
        await pollUntil(`svc ${opt} to deliver SIG${sig}`, () => readLog().includes(`${sig}\n`));
      }
      expect(readLog().split('\n').slice(1, 4)).toEqual(['USR1', 'USR2', 'QUIT']);

      const stop = await run(command('svc'), ['-dx', service]);
      expect(stop.code).toBe(0);
      await pollUntil('supervise to exit', () => supervise.exitCode !== null || supervise.signalCode !== null);
      expect(supervise.exitCode).toBe(0);
      await pollUntil('the service and its children to exit', () => {
        try {
          process.kill(-(supervise.pid as number), 0);
          return false;
        } catch {
          return true;
        }
      });
    },
  );
});
