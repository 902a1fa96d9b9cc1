import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pollUntil, startProcess } from '../support/procs.js';
import { DIST_BIN, djbpkg, run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { ok } from '../support/service.js';

/**
 * The order `service disable` keeps, seen in its system calls: the /service
 * link goes first, then the service's supervise/control gets its bytes, then
 * the logger's. The test itself plays both supervise processes (it holds the
 * read ends of real `ok` and `control` FIFOs, and lets go once told to exit),
 * and strace records what djbpkg does.
 */

const FOUND = ['/usr/bin/strace', '/bin/strace'].find((p) => existsSync(p));
// A container may forbid ptrace: then strace is as good as missing.
const STRACE = FOUND && spawnSync(FOUND, ['-o', '/dev/null', 'true']).status === 0 ? FOUND : undefined;
const WHY = FOUND ? 'strace cannot trace here (ptrace not permitted)' : 'strace is not installed';

describe.skipIf(!STRACE)(`service disable order${STRACE ? '' : ` (skipped: ${WHY})`}`, { timeout: 120_000 }, () => {
  it('unlinks ROOT/service/NAME before it writes dx to the service, and the service before its logger', async () => {
    const root = tempDir('djbpkg-order-');
    ok(await djbpkg(['--root', root, 'service', 'add', 'x', '--', 'sleep', '1000']));
    mkdirSync(path.join(root, 'service'));
    ok(await djbpkg(['--root', root, 'service', 'enable', 'x']));
    const def = path.join(root, 'var/svc.d/x');
    const held: { dir: string; ok: number; control: number; got: string }[] = [];
    for (const dir of [def, path.join(def, 'log')]) {
      mkdirSync(path.join(dir, 'supervise'), { mode: 0o700 });
      ok(await run('mkfifo', ['-m', '0600', path.join(dir, 'supervise/ok'), path.join(dir, 'supervise/control')]));
      const flags = constants.O_RDONLY | constants.O_NONBLOCK;
      held.push({ dir, ok: openSync(path.join(dir, 'supervise/ok'), flags), control: openSync(path.join(dir, 'supervise/control'), flags), got: '' });
    }
    const trace = path.join(root, 'trace');
    const p = startProcess(STRACE!, ['-f', '-qq', '-o', trace, '-e', 'trace=unlink,unlinkat,openat', process.execPath, path.join(DIST_BIN, 'djbpkg.js'), '--root', root, 'service', 'disable', 'x', '--json']);
    const buf = Buffer.alloc(64);
    try {
      await pollUntil('dx for the service and its logger', () => {
        for (const h of held) {
          try {
            const n = readSync(h.control, buf, 0, buf.length, null);
            h.got += buf.subarray(0, n).toString();
          } catch {
            /* EAGAIN: nothing yet */
          }
        }
        return held.every((h) => h.got === 'dx');
      });
    } finally {
      // Both "supervise processes" exit: nobody reads ok any more.
      for (const h of held) {
        closeSync(h.ok);
        closeSync(h.control);
      }
    }
    const exit = await p.exited;
    expect(exit.code, p.stderr()).toBe(0);
    expect(JSON.parse(p.stdout())).toMatchObject({ name: 'x', changed: true, state: { supervised: false }, log: { supervised: false } });

    const lines = readFileSync(trace, 'utf8').split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const unlinked = at(new RegExp(`unlink(at)?\\(.*"${esc(path.join(root, 'service/x'))}"`));
    const service = at(new RegExp(`openat\\(.*"${esc(path.join(def, 'supervise/control'))}", O_WRONLY`));
    const logger = at(new RegExp(`openat\\(.*"${esc(path.join(def, 'log/supervise/control'))}", O_WRONLY`));
    expect(unlinked).toBeGreaterThanOrEqual(0);
    expect(service).toBeGreaterThan(unlinked);
    expect(logger).toBeGreaterThan(service);
  });
});
