import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getpwnam } from '../../src/posix/index.js';
import { DIST_BIN } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { ENV, lineIn, ours, runTo, start } from '../support/loaders.js';
import { itNeeds } from '../support/needs.js';
import { pollUntil, track } from '../support/procs.js';

const isRoot = process.getuid?.() === 0;
const USER = `djbchain${process.pid}`;
let made = false;

beforeAll(() => {
  if (!isRoot) return;
  try {
    execFileSync('useradd', ['-M', '-U', '-s', '/bin/sh', USER], { stdio: 'ignore' });
    made = true;
  } catch {
    made = false;
  }
});
afterAll(() => {
  if (made) execFileSync('userdel', [USER], { stdio: 'ignore' });
});

describe('setuidgid / envuidgid', () => {
  itNeeds(isRoot, 'needs root to change ids')('setuidgid: uid, gid and groups = exactly the account\'s (root drops its own groups)', async () => {
    const account = made ? USER : 'nobody';
    const pw = getpwnam(account)!;
    const r = await runTo([...ours('setuidgid'), account, 'sh', '-c', 'grep -E "^(Uid|Gid|Groups):" /proc/$$/status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Uid:\t${pw.uid}\t${pw.uid}\t${pw.uid}\t${pw.uid}\nGid:\t${pw.gid}\t${pw.gid}\t${pw.gid}\t${pw.gid}\nGroups:\t${pw.gid} \n`);
  });

  it('setuidgid messages: usage 100, unknown account 111', async () => {
    for (const args of [[], ['nobody']]) {
      const r = await runTo([...ours('setuidgid'), ...args]);
      expect([r.stderr, r.code]).toEqual(['setuidgid: usage: setuidgid account child\n', 100]);
    }
    const r = await runTo([...ours('setuidgid'), 'djbpkg-no-such-user', 'true']);
    expect([r.stderr, r.code]).toEqual(['setuidgid: fatal: unknown account djbpkg-no-such-user\n', 111]);
  });

  // As root, the test runs the program as nobody through util-linux setpriv (the checkout must be searchable by others).
  const asNobody = isRoot ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'] : [];
  const othersReach = (dir: string): boolean => (statSync(dir).mode & 0o001) !== 0 && (dir === '/' || othersReach(path.dirname(dir)));
  const canDrop = existsSync('/usr/bin/setpriv') && othersReach(DIST_BIN);
  itNeeds(!isRoot || canDrop, 'root, and util-linux setpriv or a checkout nobody can reach is missing')('setuidgid as non-root: unable to setgid: permission denied', async () => {
    const r = await runTo([...asNobody, ...ours('setuidgid'), 'root', 'true']);
    expect([r.stderr, r.code]).toEqual(['setuidgid: fatal: unable to setgid: permission denied\n', 111]);
  });

  it('envuidgid: GID then UID appended to the environment; usage 100; unknown account 111', async () => {
    const pw = getpwnam('nobody')!;
    const r = await runTo([...ours('envuidgid'), 'nobody', 'env'], { env: { ...ENV, UID: 'stale' } });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(-2)).toEqual([`GID=${pw.gid}`, `UID=${pw.uid}`]);
    expect(lines.filter((l) => l.startsWith('UID='))).toHaveLength(1);
    for (const args of [[], ['nobody']]) {
      const u = await runTo([...ours('envuidgid'), ...args]);
      expect([u.stderr, u.code]).toEqual(['envuidgid: usage: envuidgid account child\n', 100]);
    }
    const x = await runTo([...ours('envuidgid'), 'djbpkg-no-such-user', 'true']);
    expect([x.stderr, x.code]).toEqual(['envuidgid: fatal: unknown account djbpkg-no-such-user\n', 111]);
  });
});

describe('pgrphack / fghack', () => {
  it('pgrphack: the child leads its own session and process group', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'stat');
    const h = start([...ours('pgrphack'), 'sh', '-c', `cat /proc/$$/stat > ${out}.t && mv ${out}.t ${out}; exec sleep 30`]);
    const stat = await lineIn(out);
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = h.child.pid!;
    expect([Number(f[2]), Number(f[3])]).toEqual([pid, pid]); // pgrp, session
    const u = await runTo(ours('pgrphack'));
    expect([u.stderr, u.code]).toEqual(['pgrphack: usage: pgrphack child\n', 100]);
  });

  it('fghack: waits for a backgrounded grandchild holding the pipe, then exits with the child\'s code', async () => {
    const dir = tempDir();
    const gpid = path.join(dir, 'gpid');
    const release = path.join(dir, 'release');
    const done = path.join(dir, 'done');
    const cpid = path.join(dir, 'cpid');
    // The grandchild stays until the test creates `release`; fghack must still be running then.
    const h = start([...ours('fghack'), 'sh', '-c', `(while [ ! -e ${release} ]; do sleep 0.05; done; echo bye > ${done}) & echo $! > ${gpid}; echo $$ > ${cpid}; exit 7`]);
    track(Number(await lineIn(gpid)));
    let finished = false;
    void h.done.then(() => (finished = true));
    // Once the child itself is gone (or a zombie), fghack must still be waiting on the grandchild.
    const child = Number(await lineIn(cpid));
    await pollUntil('child exit', () => {
      try {
        return readFileSync(`/proc/${child}/stat`, 'utf8').includes(') Z ') ? true : undefined;
      } catch {
        return true;
      }
    });
    await new Promise((r) => setImmediate(r));
    expect(finished).toBe(false);
    expect(readFileSync(`/proc/${h.child.pid}/stat`, 'utf8')).not.toContain(') Z ');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(release, '');
    const r = await h.done;
    expect(readFileSync(done, 'utf8')).toBe('bye\n');
    expect([r.stderr, r.code]).toEqual(['', 7]);
  });

  it('fghack: child crashed, unable to run, usage', async () => {
    const crashed = await runTo([...ours('fghack'), 'sh', '-c', 'kill -9 $$']);
    expect([crashed.stderr, crashed.code]).toEqual(['fghack: fatal: child crashed\n', 111]);
    const missing = await runTo([...ours('fghack'), 'djbpkg-no-such-program']);
    expect([missing.stderr, missing.code]).toEqual(['fghack: fatal: unable to run djbpkg-no-such-program: file does not exist\n', 111]);
    const usage = await runTo(ours('fghack'));
    expect([usage.stderr, usage.code]).toEqual(['fghack: usage: fghack child\n', 100]);
  });

  it('fghack: the child holds 31 write ends of one pipe, at the lowest free descriptors', async () => {
    const r = await runTo([...ours('fghack'), 'sh', '-c', 'cd /proc/$$/fd && for f in *; do [ "$f" -gt 2 ] && readlink $f; done']);
    const links = r.stdout.trim().split('\n').filter((l) => l.startsWith('pipe:'));
    const counts = new Map<string, number>();
    for (const l of links) counts.set(l, (counts.get(l) ?? 0) + 1);
    expect([...counts.values()]).toContain(31);
  });
});
