import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Root } from '../../src/core/root.js';
import { buildTs } from '../../src/install/build.js';
import { isAlive, readBootRecord, startSvscan, stopSvscan } from '../../src/boot/start.js';
import { alive, pollUntil, startProcess, track } from '../support/procs.js';
import { DIST_BIN, DIST_RUNTIME, djbpkg } from '../support/run.js';
import { spawn } from 'node:child_process';
import { tempDir } from '../support/tmp.js';

/** A root with just the commands boot needs, as a `ts` build lays them out. */
async function bootableRoot(): Promise<Root> {
  const root = new Root(tempDir('djbpkg-boot-'));
  const pkg = path.join(root.packageDir, 'admin/daemontools-0.76');
  const names = ['svscan', 'readproctitle', 'svc'];
  await buildTs(pkg, 'daemontools 0.76', names, DIST_RUNTIME);
  mkdirSync(root.commandDir, { recursive: true });
  for (const n of names) symlinkSync(`../package/admin/daemontools-0.76/command/${n}`, path.join(root.commandDir, n));
  mkdirSync(root.serviceDir);
  return root;
}

function service(root: Root, name: string, run: string): string {
  const dir = path.join(root.serviceDir, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'run'), run);
  chmodSync(path.join(dir, 'run'), 0o755);
  return dir;
}

describe('djbpkg boot / boot --stop', { timeout: 60_000 }, () => {
  it('a second boot starts nothing; --stop stops a service that ignores TERM, svscan and readproctitle', async () => {
    const root = await bootableRoot();
    const dir = service(root, 'stubborn', "#!/bin/sh\ntrap '' TERM\necho $$ > pid\nexec sleep 1000\n");
    const first = startSvscan(root);
    track(first.record.pid);
    track(first.record.readproctitlePid!);
    expect(first.alreadyRunning).toBe(false);
    expect(readBootRecord(root)?.pid).toBe(first.record.pid);

    const again = await djbpkg(['boot', '--root', root.dir, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyRunning: true, pid: first.record.pid });

    const child = await pollUntil('the service to start', () => {
      const f = path.join(dir, 'pid');
      return existsSync(f) && Number(readFileSync(f, 'utf8')) > 0 ? Number(readFileSync(f, 'utf8')) : false;
    });
    expect(alive(child)).toBe(true);

    // svc -dx cannot end a child that ignores TERM: the stop sweeps the session.
    const stop = await stopSvscan(root, { killAfterMs: 1500 });
    expect(stop.wasRunning).toBe(true);
    expect(stop.stopped).toEqual(expect.arrayContaining([first.record.pid, first.record.readproctitlePid, child]));
    expect(isAlive(first.record.pid)).toBe(false);
    expect(alive(child)).toBe(false);
    expect(readBootRecord(root)).toBeUndefined();

    const twice = await djbpkg(['boot', '--stop', '--root', root.dir]);
    expect(twice.code).toBe(0);
    expect(twice.stderr).toBe(`djbpkg: no svscan started by djbpkg is running for ${root.dir}\n`);
  });

  it('a recorded PID that now belongs to another program is neither reported as svscan nor killed', async () => {
    const root = await bootableRoot();
    const other = startProcess('sleep', ['1000']);
    mkdirSync(root.stateDir, { recursive: true });
    writeFileSync(path.join(root.stateDir, 'boot.json'), JSON.stringify({ root: root.dir, pid: other.pid, startedAt: new Date().toISOString() }));
    const stop = await djbpkg(['boot', '--stop', '--root', root.dir, '--json']);
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ wasRunning: false, stopped: [] });
    expect(alive(other.pid)).toBe(true);
  });

  it('stop-says-what-it-waits-for: names each wait and sends KILL after --kill-after seconds', async () => {
    const root = await bootableRoot();
    service(root, 'stubborn', "#!/bin/sh\ntrap '' TERM\necho $$ > pid\nexec sleep 1000\n");
    const first = startSvscan(root);
    track(first.record.pid);
    track(first.record.readproctitlePid!);
    await pollUntil('the service to start', () => existsSync(path.join(root.serviceDir, 'stubborn/pid')));
    const t0 = Date.now();
    const stop = await djbpkg(['boot', '--stop', '--kill-after', '1', '--root', root.dir]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stderr).toContain('djbpkg: telling 1 service to stop and exit (svc -dx), waiting up to 1 s: stubborn\n');
    expect(stop.stderr).toMatch(/ignored TERM for 1 s; sending KILL\n/);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(isAlive(first.record.pid)).toBe(false);
  });

  it('stop-non-root-eacces: a user who may not stop it fails at once with EACCES, exit 111', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('needs root to run djbpkg as another user (nobody)');
    const root = await bootableRoot();
    chmodSync(root.dir, 0o755);
    const first = startSvscan(root);
    track(first.record.pid);
    track(first.record.readproctitlePid!);
    const t0 = Date.now();
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [path.join(DIST_BIN, 'djbpkg.js'), 'boot', '--stop', '--root', root.dir], { uid: 65534, gid: 65534, cwd: '/', env: { PATH: process.env.PATH } });
      let err = '';
      c.stderr.on('data', (b: Buffer) => (err += b.toString()));
      c.on('close', (code) => resolve({ code, stderr: err }));
    });
    expect(r.code).toBe(111);
    expect(r.stderr).toMatch(/^djbpkg: fatal: unable to stop svscan for .*: EACCES\ndjbpkg: hint: run djbpkg boot --stop as the user who ran djbpkg boot/);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(isAlive(first.record.pid)).toBe(true);
    await stopSvscan(root, { killAfterMs: 2000 });
  });

  it('refuses to boot a root without daemontools installed, exit 100', async () => {
    const root = tempDir('djbpkg-boot-');
    const r = await djbpkg(['boot', '--root', root]);
    expect(r.code).toBe(100);
    expect(r.stderr).toBe(`djbpkg: fatal: ${root}/service does not exist\ndjbpkg: hint: install daemontools first: djbpkg install daemontools\n`);
  });
});
