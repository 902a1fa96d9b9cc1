import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Root } from '../../src/core/root.js';
import { buildTs } from '../../src/install/build.js';
import { isAlive, readBootRecord, startSvscan, stopSvscan } from '../../src/install/start.js';
import { alive, pollUntil, startProcess, track } from '../support/procs.js';
import { DIST_RUNTIME, djbpkg } from '../support/run.js';
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
    const stop = await stopSvscan(root, 1500);
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

  it('refuses to boot a root without daemontools installed, exit 100', async () => {
    const root = tempDir('djbpkg-boot-');
    const r = await djbpkg(['boot', '--root', root]);
    expect(r.code).toBe(100);
    expect(r.stderr).toBe(`djbpkg: fatal: ${root}/service does not exist\ndjbpkg: hint: install daemontools first: djbpkg install daemontools\n`);
  });
});
