import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Root } from '../../../src/core/root.js';
import { buildTs } from '../../../src/install/build.js';
import { mkfifo } from '../../../src/posix/index.js';
import { pollUntil, startProcess } from '../../support/procs.js';
import { DIST_RUNTIME } from '../../support/run.js';
import { tempDir } from '../../support/tmp.js';

/**
 * A standalone multilog (no svscan: a pipe in a shell, C svscan) restarted
 * with TERM while its writer keeps writing: each TERM ends at a line
 * boundary and no line is read that is not written, so the next multilog on
 * the same pipe goes on with the very next line.
 */
describe('standalone multilog restarts', { timeout: 240_000 }, () => {
  it('100 TERM-and-restart cycles of the installed multilog lose and double nothing', async () => {
    const base = tempDir('djbpkg-mlrestart-');
    const root = new Root(base);
    const pkg = path.join(root.packageDir, 'admin/daemontools-0.76');
    await buildTs(pkg, 'daemontools 0.76', ['multilog'], DIST_RUNTIME);
    mkdirSync(root.commandDir, { recursive: true });
    symlinkSync('../package/admin/daemontools-0.76/command/multilog', path.join(root.commandDir, 'multilog'));
    const fifo = path.join(base, 'pipe');
    mkfifo(fifo, 0o600);
    const writer = startProcess('/bin/sh', ['-c', `i=1; stop=0; trap 'stop=1' TERM; exec > ${fifo}; while [ $stop = 0 ]; do echo $i; i=$((i+1)); sleep 0.002; done; echo $((i-1)) > last`], { cwd: base });
    // This end keeps the pipe (and the writer) alive between multilogs; it is never read.
    const keep = fs.openSync(fifo, fs.constants.O_RDONLY);
    const main = path.join(base, 'main');
    const lines = () => {
      const files = existsSync(main) ? readdirSync(main).filter((f) => f.startsWith('@')).sort() : [];
      if (existsSync(path.join(main, 'current'))) files.push('current');
      return files.map((f) => readFileSync(path.join(main, f), 'latin1')).join('').split('\n').slice(0, -1);
    };
    try {
      for (let i = 0; i < 100; i++) {
        const before = lines().length;
        const ml = startProcess(path.join(root.commandDir, 'multilog'), ['./main'], { cwd: base, stdio: [keep, 'pipe', 'pipe'] });
        await pollUntil('a new line logged', () => lines().length > before, { timeoutMs: 30_000, intervalMs: 10 });
        process.kill(ml.pid, 'SIGTERM');
        expect(await ml.exited).toEqual({ code: 0, signal: null });
        expect(ml.stderr()).toBe('');
      }
      process.kill(writer.pid, 'SIGTERM');
      const last = await pollUntil('the writer to stop', () => existsSync(path.join(base, 'last')) && Number(readFileSync(path.join(base, 'last'), 'utf8')));
      const ml = startProcess(path.join(root.commandDir, 'multilog'), ['./main'], { cwd: base, stdio: [keep, 'pipe', 'pipe'] });
      // The writer is gone: the last multilog reads to the end of input and exits.
      expect(await ml.exited).toEqual({ code: 0, signal: null });
      const got = lines().map(Number);
      const want = Array.from({ length: last }, (_, k) => k + 1);
      expect(got.length).toBe(want.length);
      expect(got).toEqual(want);
    } finally {
      fs.closeSync(keep);
    }
    chmodSync(base, 0o700);
  });
});
