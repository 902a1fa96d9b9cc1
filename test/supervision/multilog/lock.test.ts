import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../support/run.js';
import { tempDir } from '../../support/tmp.js';
import { C_MULTILOG, HAVE_C_MULTILOG, MULTILOG, start, startMultilog } from '../../support/multilog.js';
import { pollUntil } from '../../support/procs.js';

const LOCKED = 'multilog: fatal: unable to lock directory ./d: temporary failure\n';

describe('multilog directory lock', () => {
  it('a second multilog on a locked directory prints 0.76 fatal text and exits 111', async () => {
    const dir = tempDir();
    const holder = startMultilog(['./d'], dir);
    await pollUntil('holder started', () => fs.existsSync(path.join(dir, 'd/current')));
    const r = await run(process.execPath, [MULTILOG, './d'], { cwd: dir, input: 'x\n' });
    expect(r.stderr).toBe(LOCKED);
    expect(r.code).toBe(111);
    holder.child.stdin.end();
    expect(await holder.exited).toEqual([0, null]);
  });

  it.skipIf(!HAVE_C_MULTILOG)('shares flock with C multilog both ways (needs /usr/bin/multilog)', async () => {
    const dir = tempDir();
    const c = start(C_MULTILOG, ['./d'], dir);
    await pollUntil('C holder started', () => fs.existsSync(path.join(dir, 'd/current')));
    const ours = await run(process.execPath, [MULTILOG, './d'], { cwd: dir, input: '' });
    expect(ours.stderr).toBe(LOCKED);
    expect(ours.code).toBe(111);
    c.child.stdin.end();
    await c.exited;

    const holder = startMultilog(['./d'], dir);
    await pollUntil('our holder started', () => (fs.statSync(path.join(dir, 'd/current')).mode & 0o100) === 0);
    const theirs = await run(C_MULTILOG, ['./d'], { cwd: dir, input: '' });
    expect(theirs.stderr).toBe(LOCKED);
    expect(theirs.code).toBe(111);
  });
});
