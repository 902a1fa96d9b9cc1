import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil, track } from '../support/procs.js';
import { DIST_BIN, PROJECT, djbpkg, run } from '../support/run.js';
import type { RunResult } from '../support/run.js';
import { distribution, ok, openTemp, parse } from '../support/service.js';
import type { Distribution } from '../support/service.js';

/**
 * examples/ansible/playbook.yml run by the real ansible-playbook against
 * localhost (connection local) on a temp root: it installs daemontools from a
 * loopback mirror, starts svscan, defines and enables a service; the second
 * run reports changed=0 because every djbpkg step says whether it changed.
 */

const PLAYBOOK = path.join(PROJECT, 'examples/ansible/playbook.yml');
const ANSIBLE = ['/usr/bin/ansible-playbook', '/usr/local/bin/ansible-playbook'].find((p) => existsSync(p));

interface Recap {
  ok: number;
  changed: number;
  failed: number;
}

function recap(r: RunResult): Recap {
  const m = /localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no play recap (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return { ok: Number(m[1]), changed: Number(m[2]), failed: Number(m[3]) };
}

describe.skipIf(!ANSIBLE)(`the Ansible example${ANSIBLE ? '' : ' (skipped: ansible-playbook is not installed; .ci/run installs ansible-core)'}`, { timeout: 400_000 }, () => {
  let dist: Distribution;
  let base: string;
  beforeAll(async () => {
    dist = await distribution();
    base = openTemp('djbpkg-ansible-');
  }, 60_000);
  afterAll(async () => {
    const root = path.join(base, 'root');
    if (existsSync(path.join(root, 'var/lib/djbpkg/boot.json'))) await djbpkg(['boot', '--stop', '--root', root]);
    rmSync(base, { recursive: true, force: true });
    await dist?.close();
  });

  it('installs, boots, adds and enables a service on localhost; the second run changes nothing', async () => {
    const root = path.join(base, 'root');
    const vars = path.join(base, 'vars.json');
    writeFileSync(
      vars,
      JSON.stringify({
        djbpkg_root: root,
        djbpkg_command: [process.execPath, path.join(DIST_BIN, 'djbpkg.js')],
        djbpkg_options: ['--recipes', dist.recipes, '--mirror', dist.server.url],
        djbpkg_boot: 'none',
        djbpkg_boot_now: true,
        djbpkg_wait: 60,
        djbpkg_services: [{ name: 'ticker', command: ['sh', '-c', 'while :; do echo "tick $A"; sleep 1; done'], user: 'nobody', env: ['A=1'] }],
      }),
    );
    const play = () =>
      run(ANSIBLE!, ['-i', 'localhost,', '-c', 'local', '-e', `@${vars}`, PLAYBOOK], {
        cwd: base,
        timeoutMs: 180_000,
        env: {
          LANG: 'C.UTF-8',
          LC_ALL: 'C.UTF-8',
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
          ANSIBLE_LOCAL_TEMP: path.join(base, 'ansible-local'),
          ANSIBLE_REMOTE_TEMP: path.join(base, 'ansible-remote'),
          ANSIBLE_RETRY_FILES_ENABLED: '0',
        },
      });

    const first = await play();
    const boot = JSON.parse(readFileSync(path.join(root, 'var/lib/djbpkg/boot.json'), 'utf8')) as { pid: number; readproctitlePid?: number };
    track(boot.pid);
    if (boot.readproctitlePid) track(boot.readproctitlePid);
    expect(first.code, first.stdout).toBe(0);
    // install, boot, add, enable changed; the status check never does.
    expect(recap(first)).toMatchObject({ changed: 4, failed: 0 });
    expect(first.stdout).toMatch(/"msg": "ticker: up \(pid \d+\)"/);

    const st = parse<{ ok: boolean; services: { name: string; up: boolean; log: { up: boolean } }[] }>(await djbpkg(['service', 'status', '--root', root, '--json']));
    expect(st.ok).toBe(true);
    expect(st.services).toMatchObject([{ name: 'ticker', up: true }]);
    await pollUntil('ticker logs "tick 1"', () => existsSync(path.join(root, 'var/multilog/ticker/current')) && readFileSync(path.join(root, 'var/multilog/ticker/current'), 'utf8').includes(' tick 1\n'), 40_000);

    const second = await play();
    expect(second.code, second.stdout).toBe(0);
    expect(recap(second)).toMatchObject({ changed: 0, failed: 0 });
    ok(await djbpkg(['service', 'status', 'ticker', '--root', root]));
  });
});
