import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { manageFixture } from '../support/fixture.js';
import { DIST_BIN, djbpkg } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { Root } from '../../src/core/root.js';
import { readBootRecord } from '../../src/boot/start.js';
import { track } from '../support/procs.js';
import { djbpkgIn } from '../support/txn.js';
import { ok, parse } from '../support/service.js';

/** Service names follow one rule in every verb; hints are commands that can be pasted as they are. */

const RULE = 'a service name matches [A-Za-z0-9][A-Za-z0-9._@+-]*, at most 64 bytes';

const BAD_NAMES = ['a$(id)b', '*', "it's", 'a"b', 'web\u202Ecod.exe', 'x'.repeat(65), '.hidden', 'a/b', 'a b', 'é'];

/** A `djbpkg` on PATH that runs the built one, as an admin who pastes a hint has it. */
function pathWithDjbpkg(): string {
  const bin = tempDir('djbpkg-bin-');
  writeFileSync(path.join(bin, 'djbpkg'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(DIST_BIN, 'djbpkg.js'))} "$@"\n`);
  chmodSync(path.join(bin, 'djbpkg'), 0o755);
  return `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
}

function hintOf(stderr: string, prefix: string): string {
  const line = stderr.split('\n').find((l) => l.includes(prefix));
  expect(line, stderr).toBeDefined();
  return line!.slice(line!.indexOf(prefix) + prefix.length).replace(/\)$/, '');
}

describe('service names', { timeout: 120_000 }, () => {
  it('names-rule: every service verb refuses a name outside the rule with exit 100, the rule in the message, nothing written', async () => {
    const root = tempDir('djbpkg-svc-names-');
    mkdirSync(path.join(root, 'service'));
    const verbs: string[][] = [['add', '%', '--', '/bin/true'], ['enable', '%'], ['disable', '%'], ['remove', '%'], ['start', '%'], ['stop', '%'], ['restart', '%'], ['status', '%'], ['logs', '%']];
    // Every verb with the shell-injection name; the others with add and status.
    const cases = [...verbs.map((v) => [BAD_NAMES[0]!, v] as const), ...BAD_NAMES.slice(1).flatMap((n) => [[n, verbs[0]!] as const, [n, verbs[7]!] as const])];
    for (const [name, v] of cases) {
      {
        const args = ['service', ...v.map((w) => (w === '%' ? name : w))];
        // In this process (the built main(), as the binary runs it): many cases, a loaded machine.
        const r = await djbpkgIn(root, args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(100);
        const first = r.stderr.split('\n')[0]!;
        expect(first).toContain(RULE);
        expect(first).toMatch(/^djbpkg: fatal: bad service name '/);
        // The terminal never gets the raw override or a newline from the name.
        expect(r.stderr).not.toContain('\u202E');
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    }
    expect(existsSync(path.join(root, 'var/svc.d'))).toBe(false);
    expect(readdirSync(path.join(root, 'service'))).toEqual([]);
    // And the real binary, once.
    const shown = await djbpkg(['service', 'add', 'web\u202Ecod.exe', '--root', root, '--', '/bin/true']);
    expect(shown.code).toBe(100);
    expect(shown.stderr).toContain("'web\\u{202E}cod.exe'");
  });

  it('names-good: names within the rule pass (dots, @, +, -, 64 bytes)', async () => {
    const root = tempDir('djbpkg-svc-names-');
    for (const name of ['web', 'getty@tty1', 'tinydns-int', 'a.b_c+d', '0', 'x'.repeat(64)]) {
      const r = await djbpkgIn(root, ['service', 'add', name, '--', '/bin/true']);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(existsSync(path.join(root, 'var/svc.d', name, 'run'))).toBe(true);
    }
  });

  it('names-confined: a service directory that is a symlink leading out of ROOT is refused; nothing is written outside', async () => {
    const root = tempDir('djbpkg-svc-out-');
    const outside = tempDir('djbpkg-outside-');
    mkdirSync(path.join(root, 'var'), { recursive: true });
    symlinkSync(outside, path.join(root, 'var/svc.d'));
    const r = await djbpkg(['service', 'add', 'web', '--root', root, '--', '/bin/true']);
    expect(r.code, r.stderr).toBe(100);
    expect(r.stderr).toMatch(/^djbpkg: fatal: not acting on the service definition .*var\/svc\.d\/web: it leads out of ROOT through a symlink/);
    expect(readdirSync(outside)).toEqual([]);
    // A /service link leading out is not followed by disable (no svc -dx to a service elsewhere).
    const root2 = tempDir('djbpkg-svc-out-');
    mkdirSync(path.join(root2, 'service'));
    mkdirSync(path.join(outside, 'other/supervise'), { recursive: true });
    symlinkSync(path.join(outside, 'other'), path.join(root2, 'service/web'));
    const d = await djbpkg(['service', 'disable', 'web', '--root', root2]);
    expect(d.code, d.stderr).toBe(100);
    expect(d.stderr).toMatch(/not acting on the directory .*service\/web links to:/);
    expect(readlinkSync(path.join(root2, 'service/web'))).toBe(path.join(outside, 'other'));
  });
});

describe('hints can be pasted', { timeout: 120_000 }, () => {
  it('hints-root-space: under a --root with a space, hints are quoted, carry --root, and pasted act on that root', async () => {
    const root = path.join(tempDir('djbpkg-svc-hint-'), 'my root');
    mkdirSync(path.join(root, 'service'), { recursive: true });
    const r = ok(await djbpkg(['service', 'add', 'web', '--root', root, '--', '/bin/true']));
    const hint = hintOf(r.stderr, 'start it with: ');
    expect(hint).toBe(`djbpkg service enable web --root '${root}'`);
    const pasted = spawnSync('sh', ['-c', hint], { encoding: 'utf8', env: { PATH: pathWithDjbpkg() } });
    expect(pasted.status, pasted.stderr).toBe(0);
    expect(readlinkSync(path.join(root, 'service/web'))).toBe('../var/svc.d/web');
    // The hint of a refused service verb carries --root too.
    const undefinedOne = await djbpkg(['service', 'enable', 'nosuch', '--root', root]);
    expect(undefinedOne.stderr).toContain(`djbpkg: hint: define it first: djbpkg service add nosuch --root '${root}' -- COMMAND`);
  });

  it('hints-install: install under a --root with a space prints quoted hints carrying --root', async () => {
    const f = await manageFixture({ commands076: ['svok', 'envdir', 'nosuchprogram', 'svscan', 'readproctitle', 'svc'] });
    const root = path.join(tempDir('djbpkg-inst-hint-'), 'a root');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    writeFileSync(path.join(root, 'etc/inittab'), 'id:2:initdefault:\n');
    const r = await djbpkg(['install', 'daemontools', '--root', root, '--recipes', f.recipes, '--mirror', f.mirror]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`(start it with: djbpkg boot --root '${root}')`);
    expect(r.stderr).toContain(`djbpkg sysdeps --root '${root}' prints it`);
    expect(r.stderr).not.toContain('svscan is not started for a sandbox root');
    // The links are counted per directory on one line, not listed path by path.
    expect(r.stderr).toMatch(/^djbpkg: links: changed \d+ links: .*\d+ in .*\/command, \d+ in .*\/usr\/local\/bin/m);
    expect(r.stderr.split('\n').find((l) => l.startsWith('djbpkg: links: '))!.length).toBeLessThan(400);
    // With svscan running for the root (djbpkg boot), install says so instead of "not started".
    const booted = await djbpkg(['boot', '--root', root, '--json']);
    expect(booted.code, booted.stderr).toBe(0);
    const rec = readBootRecord(new Root(root))!;
    track(rec.pid);
    if (rec.readproctitlePid) track(rec.readproctitlePid);
    try {
      const again = await djbpkg(['install', 'daemontools', '--root', root, '--recipes', f.recipes, '--mirror', f.mirror]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain(`svscan for this root already runs (pid ${rec.pid}, started by djbpkg boot)`);
      expect(again.stderr).not.toContain('svscan does not run');
    } finally {
      expect((await djbpkg(['boot', '--stop', '--root', root])).code).toBe(0);
    }
    // A hint that suggests an install carries --recipes (and --distfiles when given).
    const dist = path.join(tempDir('djbpkg-dist-'), 'd d');
    mkdirSync(dist);
    const doc = await djbpkg(['doctor', '--root', root, '--recipes', f.recipes, '--distfiles', dist]);
    expect(doc.stdout + doc.stderr).toContain(`djbpkg boot --root '${root}'`);
    const broken = path.join(root, 'command/svok');
    spawnSync('rm', ['-f', broken]);
    const doc2 = await djbpkg(['doctor', '--root', root, '--recipes', f.recipes, '--distfiles', dist]);
    expect(doc2.stdout + doc2.stderr).toContain(`djbpkg install daemontools --root '${root}' --recipes ${f.recipes} --distfiles '${dist}'`);
  });
});

describe('service add over an existing definition', { timeout: 60_000 }, () => {
  it('add-twice: a different definition is refused (exit 100, says --force); --force replaces it and keeps what it had in a dated backup', async () => {
    const root = tempDir('djbpkg-svc-twice-');
    const def = path.join(root, 'var/svc.d/web');
    ok(await djbpkg(['service', 'add', 'web', '--root', root, '--env', 'TOKEN=secret', '--', 'server', 'v1']));
    const run1 = readFileSync(path.join(def, 'run'), 'utf8');
    // The same again converges: nothing to replace.
    expect(parse(await djbpkg(['service', 'add', 'web', '--root', root, '--json', '--env', 'TOKEN=secret', '--', 'server', 'v1'])).changed).toBe(false);
    const again = await djbpkg(['service', 'add', 'web', '--root', root, '--', 'server', 'v2']);
    expect(again.code).toBe(100);
    expect(again.stderr).toMatch(/^djbpkg: fatal: service web is already defined in .*var\/svc\.d\/web, differently \(run, env\/TOKEN\); not replacing it\ndjbpkg: hint: to replace it, give the same command with --force/);
    expect(readFileSync(path.join(def, 'run'), 'utf8')).toBe(run1);
    expect(readFileSync(path.join(def, 'env/TOKEN'), 'utf8')).toBe('secret\n');
    const forced = await djbpkg(['service', 'add', 'web', '--root', root, '--force', '--', 'server', 'v2']);
    expect(forced.code, forced.stderr).toBe(0);
    const m = /what it replaced is kept in (\S+)\n/.exec(forced.stderr);
    expect(m, forced.stderr).not.toBeNull();
    const backup = m![1]!;
    expect(backup).toMatch(/var\/lib\/djbpkg\/service-backups\/web-\d{8}T\d{6}Z$/);
    expect(readFileSync(path.join(backup, 'run'), 'utf8')).toBe(run1);
    expect(readFileSync(path.join(backup, 'env/TOKEN'), 'utf8')).toBe('secret\n');
    expect(readFileSync(path.join(backup, 'log/run'), 'utf8')).toContain('multilog');
    expect(readFileSync(path.join(def, 'run'), 'utf8')).toContain("server v2");
    expect(existsSync(path.join(def, 'env/TOKEN'))).toBe(false);
    expect(forced.stderr).toContain(`restart it to use the new definition: djbpkg service restart web --root ${root}`);
    // A second --force within the same second gets its own backup directory.
    const forced2 = parse<{ backup: string }>(await djbpkg(['service', 'add', 'web', '--root', root, '--force', '--json', '--', 'server', 'v3']));
    expect(forced2.backup).not.toBe(backup);
    expect(readFileSync(path.join(forced2.backup, 'run'), 'utf8')).toContain('server v2');
  });
});
