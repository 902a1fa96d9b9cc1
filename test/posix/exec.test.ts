import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

const POSIX = new URL('../../dist/posix/index.js', import.meta.url).href;

/** Runs a snippet in a fresh Node process (these calls change process-wide state). */
function node(code: string, stdio: ('pipe' | 'ignore' | number)[] = ['ignore', 'pipe', 'pipe']) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', `const p = await import(${JSON.stringify(POSIX)});\n${code}`], { stdio, encoding: 'utf8' });
}

describe('posix chain helpers', () => {
  it('fchdir returns to a directory held open', () => {
    const d = realpathSync(tempDir());
    mkdirSync(path.join(d, 'sub'));
    const r = node(`import('node:fs').then((fs) => { const fd = fs.openSync(${JSON.stringify(d)}, 'r'); process.chdir(${JSON.stringify(path.join(d, 'sub'))}); p.fchdir(fd); console.log(fs.realpathSync('.')); });`);
    expect(r.stdout.trim()).toBe(d);
  });

  it('exitImmediately leaves with the code, skipping exit handlers', () => {
    const r = node(`process.on('exit', () => console.log('handler ran')); p.exitImmediately(37);`);
    expect(r.status).toBe(37);
    expect(r.stdout).toBe('');
  });

  it('inheritedFds names what the parent passed, not Node\'s own event-loop descriptors', () => {
    const f = path.join(tempDir(), 'f');
    const fd = openSync(f, 'w');
    try {
      const r = node('console.log(JSON.stringify(p.inheritedFds()));', ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', fd]);
      expect(JSON.parse(r.stdout)).toContain(6);
      const self = node('console.log(JSON.stringify(p.inheritedFds()));', ['ignore', 'pipe', 'pipe']);
      // Whatever the test runner leaks is the same with or without fd 6.
      expect(JSON.parse(r.stdout).filter((x: number) => x !== 6)).toEqual(JSON.parse(self.stdout));
    } finally {
      closeSync(fd);
    }
  });

  it('dupAtLeast copies a descriptor at or above a number, close-on-exec', () => {
    const r = node('const fd = p.dupAtLeast(1, 40); console.log(fd, p.getFdFlags(fd).cloexec);', ['ignore', 'pipe', 'pipe']);
    const [fd, cloexec] = r.stdout.trim().split(' ');
    expect(Number(fd)).toBeGreaterThanOrEqual(40);
    expect(cloexec).toBe('true');
  });
});

describe('the descriptors a program started with (startfds.ts)', () => {
  it('are only those open then: not the directory descriptor its own /proc/self/fd listing used', () => {
    const startfds = new URL('../../dist/posix/startfds.js', import.meta.url).href;
    // The snapshot is the first thing this process does; each descriptor it names must still be open right after.
    const code = `const { startFds } = await import(${JSON.stringify(startfds)});
const fs = await import('node:fs');
const set = [...startFds()];
console.log(JSON.stringify({ set, closed: set.filter((fd) => { try { fs.fstatSync(fd); return false; } catch { return true; } }) }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    const { set, closed } = JSON.parse(r.stdout) as { set: number[]; closed: number[] };
    expect(set).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(closed).toEqual([]);
  });
});
