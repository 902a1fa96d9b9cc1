import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pollUntil, processTree, startProcess } from '../support/procs.js';
import { tempDir } from '../support/tmp.js';
import { bin, ours, SLEEP, readStatus, recordingService, startSupervise, waitUp } from '../support/supervise.js';

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

describe('readproctitle', () => {
  it('keeps the newest bytes of its input in its title, first three dots kept, NULs ignored', async () => {
    const p = startProcess(process.execPath, [bin('readproctitle'), 'service', 'errors:', '..........'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    await pollUntil('initial title', () => cmdline(p.pid) === 'readproctitle service errors: ..........');
    p.child.stdin!.write(Buffer.from('abcdefghijklmnop\0Q', 'latin1'));
    await pollUntil('title shows the tail', () => cmdline(p.pid) === 'readproctitle service errors: ...klmnopQ');
    p.child.stdin!.end();
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 100 silently without arguments or with a last argument under 5 bytes', async () => {
    expect(await ours('readproctitle', [])).toMatchObject({ stdout: '', stderr: '', code: 100 });
    expect(await ours('readproctitle', ['x', '....'])).toMatchObject({ stdout: '', stderr: '', code: 100 });
  });
});

describe('svscanboot', () => {
  it('stops leftovers, becomes svscan on ROOT/service with errors shown by readproctitle', async () => {
    const root = tempDir();
    const service = path.join(root, 'service');
    mkdirSync(service);
    const a = path.join(service, 'a');
    mkdirSync(a);
    writeFileSync(path.join(a, 'run'), `#!/bin/sh\necho hello-from-a >&2\nexec ${SLEEP} 1000\n`);
    chmodSync(path.join(a, 'run'), 0o755);
    const left = recordingService(path.join(service, 'b'));
    const leftover = startSupervise(left);
    await waitUp(left);

    const boot = startProcess(process.execPath, [bin('svscanboot')], { env: { DJBPKG_ROOT: root } });
    expect((await leftover.exited).code).toBe(0);
    await pollUntil('same pid is now svscan', () => cmdline(boot.pid).includes(`svscan.js ${service}`));
    const title = await pollUntil('readproctitle child', () =>
      processTree(boot.pid).find((p) => cmdline(p).startsWith('readproctitle service errors: ')),
    );
    await pollUntil('service stderr in the title', () => cmdline(title).includes('hello-from-a'));
    expect(cmdline(title).length).toBe('readproctitle service errors: '.length + 400);
    await pollUntil('b supervised again', () => (readStatus(left)?.pid ?? 0) !== 0 && readdirSync(left).includes('supervise'));
    const env = readFileSync(`/proc/${boot.pid}/environ`, 'latin1').split('\0').filter(Boolean);
    expect(env.map((e) => e.split('=')[0])).toEqual(['PATH']);
    expect(env[0]).toBe(`PATH=${root}/command:${root}/usr/local/bin:${root}/usr/local/sbin:${root}/bin:${root}/sbin:${root}/usr/bin:${root}/usr/sbin:${root}/usr/X11R6/bin`);
  });
});
