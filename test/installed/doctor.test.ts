import { chmodSync, mkdirSync, readFileSync, renameSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INITTAB_LINE } from '../../src/boot/boot.js';
import type { ManageFixture } from '../support/fixture.js';
import { jsonOf, manageFixture } from '../support/fixture.js';
import { startProcess, type Background } from '../support/procs.js';

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/**
 * Stands in for svscan: a harmless long-lived process, named svscan in its
 * argv (doctor checks the recorded PID still runs svscan), whose PID is
 * written as the root's boot record.
 */
function fakeSvscan(root: string): Background {
  const child = startProcess('sleep', ['60'], { stdio: ['ignore', 'ignore', 'ignore'], argv0: 'svscan', detached: false });
  const dir = path.join(root, 'var/lib/djbpkg');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'boot.json'), JSON.stringify({ root, pid: child.pid, readproctitlePid: undefined, startedAt: new Date().toISOString() }));
  return child;
}

async function doctor(f: ManageFixture): Promise<{ code: number | null; checks: Check[]; text: string; stderr: string }> {
  const j = await f.run(['doctor', '--json']);
  const t = await f.run(['doctor']);
  expect(t.code).toBe(j.code);
  return { code: j.code, checks: jsonOf(j).checks as Check[], text: t.stdout, stderr: t.stderr };
}

function failing(checks: Check[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => c.check);
}

describe('djbpkg doctor', { timeout: 60_000 }, () => {
  it('exits 0 on a good root with svscan running (recorded by boot), one ok line per check', async () => {
    const f = await manageFixture({ commands076: ['svok', 'envdir', 'nosuchprogram', 'svscanboot'] });
    await f.install();
    const pid = fakeSvscan(f.root).pid;
    const d = await doctor(f);
    expect(failing(d.checks)).toEqual([]);
    expect(d.code).toBe(0);
    expect(d.checks.map((c) => c.check)).toEqual(['package-mode', 'links', 'commands', 'service', 'boot-line', 'svscan', 'path', 'node', 'leftovers']);
    expect(d.text.split('\n').filter(Boolean).every((l) => l.startsWith('ok '))).toBe(true);
    expect(d.text).toContain(`ok      svscan: svscan for ${f.root} runs (pid ${pid}, started by djbpkg boot)\n`);
    expect(d.text).toContain(`ok      path: sandbox root: ${path.join(f.root, 'command')} exists (PATH is checked only for --root /)\n`);
    expect(d.text).toContain(`ok      node: node found at ${process.execPath}\n`);
    expect(d.text).toContain(`ok      boot-line: svscanboot is started at boot exactly once: ${f.root}/etc/inittab (1)\n`);
  });

  it('reports svscan not running (no record, then a dead recorded PID), exit 100 with the fix', async () => {
    const f = await manageFixture({ commands076: ['svok', 'envdir', 'nosuchprogram', 'svscanboot'] });
    await f.install();
    const d = await doctor(f);
    expect(d.code).toBe(100);
    expect(failing(d.checks)).toEqual(['svscan']);
    expect(d.text).toContain(`PROBLEM svscan: svscan is not running for ${f.root}\n        fix: run djbpkg boot --root ${f.root}\n`);
    expect(d.stderr).toBe('djbpkg: fatal: 1 problem found: svscan\n');
    const svscan = fakeSvscan(f.root);
    const pid = svscan.pid;
    process.kill(pid, 'SIGKILL');
    await svscan.exited;
    const dead = await doctor(f);
    expect(dead.checks.find((c) => c.check === 'svscan')!.detail).toBe(`svscan recorded by djbpkg boot (pid ${pid}) is no longer running`);
  });

  it('on a broken root lists every problem: /package mode, a removed link, a non-executable command, a duplicated boot line, /service gone, node gone', async () => {
    const f = await manageFixture({ commands076: ['svok', 'envdir', 'nosuchprogram', 'svscanboot'] });
    await f.install();
    fakeSvscan(f.root);
    chmodSync(path.join(f.root, 'package'), 0o755);
    unlinkSync(path.join(f.root, 'usr/local/bin/envdir'));
    chmodSync(path.join(f.pkg('0.76'), 'command/envdir'), 0o644);
    const inittab = path.join(f.root, 'etc/inittab');
    writeFileSync(inittab, readFileSync(inittab, 'utf8') + INITTAB_LINE + '\n');
    rmdirSync(path.join(f.root, 'service'));
    const wrapper = path.join(f.pkg('0.76'), 'command/svok');
    writeFileSync(wrapper, readFileSync(wrapper, 'utf8').replace(/^node='.*'$/m, `node='${path.join(f.root, 'gone/node')}'`));
    const d = await doctor(f);
    expect(d.code).toBe(100);
    expect(failing(d.checks)).toEqual(['package-mode', 'links', 'commands', 'service', 'boot-line', 'node']);
    const by = Object.fromEntries(d.checks.map((c) => [c.check, c]));
    expect(by['package-mode']).toEqual({ check: 'package-mode', ok: false, detail: `${f.root}/package has mode 755, not 1755`, fix: `chmod 1755 ${path.join(f.root, 'package')}` });
    expect(by.links!.detail).toBe(`missing or dangling: ${f.root}/usr/local/bin/envdir`);
    expect(by.commands!.detail).toBe(`not an executable file: ${f.root}/package/admin/daemontools-0.76/command/envdir`);
    expect(by['boot-line']!.detail).toBe(`svscanboot is started 2 times at boot: ${f.root}/etc/inittab (2)`);
    expect(by.service!.detail).toBe(`${f.root}/service is missing`);
    expect(by.node!.detail).toBe(`node recorded in the command wrappers is missing: ${path.join(f.root, 'gone/node')}`);
    expect(d.stderr).toBe('djbpkg: fatal: 6 problems found: package-mode, links, commands, service, boot-line, node\n');
  });

  it('accepts ROOT/package as a symlink to a 1755 directory, and finds no boot line on a root without one', async () => {
    const f = await manageFixture({ commands076: ['svok', 'envdir', 'nosuchprogram', 'svscanboot'] });
    await f.install('daemontools');
    fakeSvscan(f.root);
    renameSync(path.join(f.root, 'package'), path.join(f.root, 'package.real'));
    symlinkSync('package.real', path.join(f.root, 'package'));
    writeFileSync(path.join(f.root, 'etc/inittab'), 'id:2:initdefault:\n');
    const d = await doctor(f);
    expect(failing(d.checks)).toEqual(['boot-line']);
    expect(d.checks[0]!.detail).toBe(`${f.root}/package is a directory with mode 1755 (through a symlink)`);
    expect(d.checks.find((c) => c.check === 'boot-line')!.fix).toContain(`djbpkg install daemontools --root ${f.root} --recipes ${f.recipes} again`);
  });

  it('on an empty root says what is missing without failing on absent files', async () => {
    const f = await manageFixture({ commands076: ['svok', 'envdir', 'nosuchprogram', 'svscanboot'] });
    const d = await doctor(f);
    expect(d.code).toBe(100);
    expect(failing(d.checks)).toEqual(['package-mode', 'links', 'commands', 'service', 'boot-line', 'svscan', 'path']);
    expect(d.stderr).not.toContain('internal error');
  });
});
