import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { djbpkg } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { ok, parse } from '../support/service.js';

/** Definitions and links without any supervise running: what is written, and what is refused. */

const nobody = statSync('/').uid === 0 ? 65534 : undefined;

describe('djbpkg service add', { timeout: 60_000 }, () => {
  it('writes run, env/, log/run and log/main, staged and renamed, and a log directory owned by the log user', async () => {
    const root = tempDir('djbpkg-svc-add-');
    const r = parse<{ changed: boolean; created: boolean; logUser: string; definition: string }>(
      await djbpkg(['service', 'add', 'web', '--root', root, '--json', '--user', 'nobody', '--env', 'GREETING=hello world', '--env', 'PORT=8080', '--down', '--', 'my server', "it's", '$HOME', 'plain-arg']),
    );
    expect(r).toMatchObject({ changed: true, created: true, logUser: 'nobody' });
    // Shown as the target system sees it, or as the host does (ROOT/var/svc.d/web).
    expect(r.definition).toMatch(/(^|\/)var\/svc\.d\/web$/);
    const def = path.join(root, 'var/svc.d/web');
    expect(readFileSync(path.join(def, 'run'), 'utf8')).toBe(
      "#!/bin/sh\nexec 2>&1\nexec envdir ./env setuidgid nobody 'my server' 'it'\\''s' '$HOME' plain-arg\n",
    );
    expect(statSync(path.join(def, 'run')).mode & 0o777).toBe(0o755);
    expect(readFileSync(path.join(def, 'env/GREETING'), 'utf8')).toBe('hello world\n');
    expect(readFileSync(path.join(def, 'env/PORT'), 'utf8')).toBe('8080\n');
    expect(readFileSync(path.join(def, 'log/run'), 'utf8')).toBe('#!/bin/sh\nexec setuidgid nobody multilog t ./main\n');
    expect(readlinkSync(path.join(def, 'log/main'))).toBe('../../../multilog/web');
    expect(statSync(path.join(def, 'log/main')).isDirectory()).toBe(true);
    expect(existsSync(path.join(def, 'down'))).toBe(true);
    // Handed to the log user where we may chown (root); else it stays whoever made it.
    expect(statSync(path.join(root, 'var/multilog/web')).uid).toBe(nobody ?? process.getuid?.());
    // No staging name is left behind, and nothing was linked into /service.
    expect(readdirSync(path.join(root, 'var/svc.d'))).toEqual(['web']);
    expect(existsSync(path.join(root, 'service/web'))).toBe(false);
  });

  it('is idempotent, and brings an existing definition to the new spec file by file', async () => {
    const root = tempDir('djbpkg-svc-add-');
    const add = (...extra: string[]) => djbpkg(['service', 'add', 'job', '--root', root, '--json', ...extra]);
    expect(parse(await add('--env', 'A=1', '--env', 'B=2', '--down', '--', 'sleep', '100')).changed).toBe(true);
    const again = parse<{ changed: boolean; updated: string[] }>(await add('--env', 'A=1', '--env', 'B=2', '--down', '--', 'sleep', '100'));
    expect(again).toMatchObject({ changed: false, updated: [] });
    const inode = lstatSync(path.join(root, 'var/svc.d/job')).ino;
    // A different definition is replaced only with --force (service add twice: see names.test.ts).
    expect((await add('--env', 'A=3', '--', 'sleep', '200')).code).toBe(100);
    const changed = parse<{ changed: boolean; updated: string[] }>(await add('--force', '--env', 'A=3', '--', 'sleep', '200'));
    expect(changed.changed).toBe(true);
    expect(changed.updated.sort()).toEqual(['down', 'env/A', 'env/B', 'run']);
    // The directory itself stays (a running supervise has it as its cwd).
    expect(lstatSync(path.join(root, 'var/svc.d/job')).ino).toBe(inode);
    expect(readdirSync(path.join(root, 'var/svc.d/job/env'))).toEqual(['A']);
    expect(existsSync(path.join(root, 'var/svc.d/job/down'))).toBe(false);
    expect(readFileSync(path.join(root, 'var/svc.d/job/run'), 'utf8')).toContain('exec envdir ./env sleep 200\n');
  });

  it.each([
    [['service', 'add', '.hidden', '--', 'true'], /bad service name '\.hidden': a service name matches/],
    [['service', 'add', 'a/b', '--', 'true'], /bad service name 'a\/b': a service name matches/],
    [['service', 'add', '', '--', 'true'], /bad service name '': a service name matches/],
    [['service', 'add', 'nocmd'], /no command given for service nocmd/],
    [['service', 'add', 'x', '--env', 'NOEQUALS', '--', 'true'], /bad --env "NOEQUALS"/],
    [['service', 'add', 'x', '--env', 'A=trailing ', '--', 'true'], /value of A cannot be kept by envdir/],
    [['service', 'add', 'x', '--user', 'no-such-account-here', '--', 'true'], /unknown account no-such-account-here/],
    [['service', 'enable', 'undefined-one'], /service undefined-one is not defined/],
    [['service', 'frob'], /unknown command: service frob/],
    [['service', 'disable', 'x', '--wait', 'soon'], /bad --wait/],
    [['service', 'stop', 'x', '--wait', '-1'], /bad --wait -1/],
  ])('refuses %j with one fatal line and exit 100', async (args, message) => {
    const root = tempDir('djbpkg-svc-bad-');
    const r = await djbpkg([...args, '--root', root]);
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/^djbpkg: fatal: /);
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(root, 'var/svc.d/x'))).toBe(false);
  });
});

describe('djbpkg service enable, status, disable without svscan', { timeout: 60_000 }, () => {
  it('links atomically, reports a wanted but unsupervised service as unhealthy (exit 111), unlinks on disable', async () => {
    const root = tempDir('djbpkg-svc-link-');
    ok(await djbpkg(['service', 'add', 'job', '--root', root, '--', 'sleep', '100']));
    const noService = await djbpkg(['service', 'enable', 'job', '--root', root]);
    expect(noService.code).toBe(100);
    expect(noService.stderr).toMatch(/^djbpkg: fatal: \S*\/service does not exist\ndjbpkg: hint: install daemontools first/);
    mkdirSync(path.join(root, 'service'));
    expect(parse(await djbpkg(['service', 'enable', 'job', '--root', root, '--json'])).changed).toBe(true);
    expect(readlinkSync(path.join(root, 'service/job'))).toBe('../var/svc.d/job');
    expect(readdirSync(path.join(root, 'service'))).toEqual(['job']);
    expect(parse(await djbpkg(['service', 'enable', 'job', '--root', root, '--json'])).changed).toBe(false);

    const st = await djbpkg(['service', 'status', '--root', root]);
    expect(st.stdout).toBe('job: supervise not running, normally up; log: supervise not running, normally up\n');
    expect(st.code).toBe(111);
    expect(st.stderr).toBe('djbpkg: fatal: service job should be up but is not\n');
    const js = JSON.parse((await djbpkg(['service', 'status', '--root', root, '--json'])).stdout) as { ok: boolean; services: { name: string; wantsUp: boolean; supervised: boolean }[] };
    expect(js.ok).toBe(false);
    expect(js.services).toMatchObject([{ name: 'job', wantsUp: true, supervised: false }]);

    const start = await djbpkg(['service', 'start', 'job', '--root', root]);
    expect(start.code).toBe(111);
    expect(start.stderr).toMatch(/^djbpkg: fatal: unable to control job: supervise not running\n/);

    expect(parse(await djbpkg(['service', 'disable', 'job', '--root', root, '--json'])).changed).toBe(true);
    expect(existsSync(path.join(root, 'service/job'))).toBe(false);
    const after = await djbpkg(['service', 'status', '--root', root]);
    expect(after.code).toBe(0);
    expect(after.stdout).toBe('job: disabled (not in /service)\n');
    expect(parse(await djbpkg(['service', 'disable', 'job', '--root', root, '--json'])).changed).toBe(false);

    const rm1 = parse<{ changed: boolean; logsPurged: boolean }>(await djbpkg(['service', 'remove', 'job', '--root', root, '--json']));
    expect(rm1).toMatchObject({ changed: true, logsPurged: false });
    expect(existsSync(path.join(root, 'var/svc.d/job'))).toBe(false);
    expect(existsSync(path.join(root, 'var/multilog/job'))).toBe(true);
    expect(parse(await djbpkg(['service', 'remove', 'job', '--root', root, '--json', '--purge-logs'])).changed).toBe(true);
    expect(existsSync(path.join(root, 'var/multilog/job'))).toBe(false);
    expect(parse(await djbpkg(['service', 'remove', 'job', '--root', root, '--json', '--purge-logs'])).changed).toBe(false);

    // A /service link whose definition is gone is a service svscan cannot run: unhealthy, not a crash.
    symlinkSync('../var/svc.d/gone', path.join(root, 'service/gone'));
    const dangling = await djbpkg(['service', 'status', '--root', root]);
    expect(dangling).toMatchObject({ code: 111, stdout: 'gone: supervise not running, normally up\n', stderr: 'djbpkg: fatal: service gone should be up but is not\n' });
  });
});
