import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../support/http.js';
import type { TestServer } from '../support/http.js';
import { pollUntil, startProcess } from '../support/procs.js';
import { writeRecipe } from '../support/recipe.js';
import { PROJECT, djbpkg, run } from '../support/run.js';
import type { RunResult } from '../support/run.js';

/**
 * The genuine tarballs built natively, installed and run: daemontools 0.76
 * (with sigq12: `svc -1` delivers SIGUSR1), ucspi-tcp 0.88 (tcpserver answers
 * through a program, tcprules makes a cdb that tcpserver -x enforces) and
 * djbdns 1.05 through a local recipe pinned to Debian's orig tarball
 * (tinydns-data and tinydns-get, no network). Each is compiled once in this
 * file, so the tests share their roots and run in order.
 */

const DAEMONTOOLS = process.env.DJBPKG_UPSTREAM_TARBALL;
const UCSPI = process.env.DJBPKG_UCSPI_TARBALL;
const DJBDNS = process.env.DJBPKG_DJBDNS_TARBALL;
const why = (name: string, v: string | undefined) => (v ? '' : ` (skipped: ${name} is not set)`);

const made: string[] = [];
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A root shared by the tests of this file (tempDir's per-test clean-up would remove it between them). */
function sharedDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

async function mirrorOf(files: Record<string, string | undefined>): Promise<string> {
  const routes: Parameters<typeof startServer>[0] = {};
  for (const [name, file] of Object.entries(files)) if (file) routes[`/${name}`] = { kind: 'file', body: readFileSync(file) };
  const srv = await startServer(routes, { persistent: true });
  servers.push(srv);
  return srv.url;
}

function ok(r: RunResult): RunResult {
  if (r.code !== 0) throw new Error(`exited ${r.code}: ${r.stderr}`);
  return r;
}

/** A loopback port nobody listens on right now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Connects, reads until the server closes; undefined while nothing listens yet. */
function exchange(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const c = net.connect(port, '127.0.0.1');
    c.on('data', (b) => chunks.push(b));
    c.on('error', () => resolve(undefined));
    c.on('close', () => resolve(Buffer.concat(chunks).toString()));
    c.setTimeout(20_000, () => c.destroy());
  });
}

function buildRecord(pkg: string): string {
  return readFileSync(path.join(pkg, 'package/build'), 'utf8');
}

describe('genuine tarballs, native builds', { timeout: 900_000 }, () => {
  const base = sharedDir('djbpkg-native-real-');
  // Searchable by others, so that the compile drops to nobody as on a real system.
  chmodSync(base, 0o755);
  const root = path.join(base, 'root');
  mkdirSync(root);
  const dist = path.join(base, 'dist');
  let mirror: string | undefined;
  const djb = async (args: string[], extra: string[] = []): Promise<RunResult> => {
    mirror ??= await mirrorOf({ 'daemontools-0.76.tar.gz': DAEMONTOOLS, 'ucspi-tcp-0.88.tar.gz': UCSPI, 'djbdns-1.05.tar.gz': DJBDNS });
    return djbpkg([...args, '--root', root, '--mirror', mirror, '--distfiles', dist, ...extra], { timeoutMs: 840_000 });
  };
  const recipes = path.join(base, 'recipes');

  it.skipIf(!DAEMONTOOLS || !UCSPI || !DJBDNS)(
    `djbpkg install djbdns on a fresh root installs daemontools and ucspi-tcp first, then djbdns, and each verifies${why('DJBPKG_UPSTREAM_TARBALL, DJBPKG_UCSPI_TARBALL and DJBPKG_DJBDNS_TARBALL', DAEMONTOOLS && UCSPI && DJBDNS)}`,
    async () => {
      // Debian's djbdns orig tarball is not upstream's file: a local recipe pins its own digests.
      const bytes = readFileSync(DJBDNS!);
      const bundled = JSON.parse(readFileSync(path.join(PROJECT, 'recipes/djbdns.json'), 'utf8')) as { versions: Record<string, Record<string, unknown>> };
      const v = bundled.versions['1.05']!;
      expect(createHash('md5').update(bytes).digest('hex')).toBe('97aad51e20bb3504fb6d51fa5dadc521');
      writeRecipe(recipes, {
        ...bundled,
        versions: {
          '1.05': {
            ...v,
            size: bytes.length,
            md5: createHash('md5').update(bytes).digest('hex'),
            sha256: createHash('sha256').update(bytes).digest('hex'),
            patches: { errno: { file: path.join(PROJECT, 'patches/djbdns-1.05.errno.patch'), default: true } },
          },
        },
      });
      const r = ok(await djb(['install', 'djbdns', '--json'], ['--recipes', recipes]));
      expect(r.stderr).toContain('djbpkg: installing daemontools 0.76 first (djbdns requires it)');
      expect(r.stderr).toContain('djbpkg: installing ucspi-tcp 0.88 first (djbdns requires it)');
      const rep = JSON.parse(r.stdout) as { name: string; build: string; requirements: { name: string; build: string }[] };
      expect(rep).toMatchObject({ name: 'djbdns', build: 'native' });
      expect(rep.requirements.map((q) => `${q.name}:${q.build}`)).toEqual(['daemontools:ts', 'ucspi-tcp:native']);
      for (const name of ['daemontools', 'ucspi-tcp', 'djbdns']) ok(await djb(['verify', name], ['--recipes', recipes]));
      const list = ok(await djb(['list'])).stdout;
      expect(list).toContain('net/ucspi-tcp-0.88  current  build native  patches errno');
      expect(list).toContain('net/djbdns-1.05  current  build native  patches errno  requires daemontools,ucspi-tcp');
      expect(buildRecord(path.join(root, 'package/net/djbdns-1.05'))).toMatch(/^baseline: linux/m);
      expect(readFileSync(path.join(root, 'package/net/ucspi-tcp-0.88/error.h'), 'utf8')).toContain('#include <errno.h>');
      const doctor = await djb(['doctor']);
      expect(doctor.stdout).toMatch(/^ok {6}links: \d+ \/command and \/usr\/local\/bin links of installed packages resolve$/m);
      expect(doctor.stdout).toContain(`ok      commands: ${17 + 17 + 29} command files of installed packages exist and are executable\n`);
      // Only daemontools hooks boot: one line, whatever the other two installs did.
      expect(doctor.stdout).toMatch(/^ok {6}boot-line: svscanboot is started at boot exactly once/m);
    },
  );

  it.skipIf(!UCSPI)(`ucspi-tcp: tcpserver answers through a program on 127.0.0.1; tcprules makes rules that tcpserver -x enforces${why('DJBPKG_UCSPI_TARBALL', UCSPI)}`, async () => {
    if (!existsSync(path.join(root, 'package/net/ucspi-tcp-0.88'))) ok(await djb(['install', 'ucspi-tcp']));
    const cmd = (n: string) => path.join(root, 'command', n);
    expect(readFileSync(cmd('tcpserver')).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    // conf-home went through the version-less link: date@ runs tcpclient by that path.
    expect(readFileSync(path.join(root, 'package/net/ucspi-tcp-0.88/conf-home'), 'utf8').split('\n')[0]).toBe('/package/net/ucspi-tcp');
    expect(readFileSync(cmd('date@'), 'utf8')).toContain('/package/net/ucspi-tcp/bin/tcpclient');
    expect(statSync(path.join(root, 'package/net/ucspi-tcp/bin/tcpclient')).mode & 0o111).not.toBe(0);

    const port = await freePort();
    startProcess(cmd('tcpserver'), ['-R', '-H', '-l', '0', '127.0.0.1', String(port), 'sh', '-c', 'echo "hello $TCPREMOTEIP"']);
    expect(await pollUntil('tcpserver to answer', () => exchange(port), { timeoutMs: 30_000 })).toBe('hello 127.0.0.1\n');

    const work = path.join(base, 'rules');
    mkdirSync(work, { recursive: true });
    const compile = async (rules: string, name: string): Promise<string> => {
      const cdb = path.join(work, `${name}.cdb`);
      ok(await run(cmd('tcprules'), [cdb, path.join(work, `${name}.tmp`)], { input: rules }));
      return cdb;
    };
    const deny = await compile('127.0.0.1:deny\n:allow\n', 'deny');
    const greet = await compile('127.0.0.1:allow,GREETING="hi from the rules"\n:deny\n', 'greet');
    const denied = await freePort();
    const denier = startProcess(cmd('tcpserver'), ['-v', '-R', '-H', '-l', '0', '-x', deny, '127.0.0.1', String(denied), 'sh', '-c', 'echo served']);
    const allowed = await freePort();
    startProcess(cmd('tcpserver'), ['-R', '-H', '-l', '0', '-x', greet, '127.0.0.1', String(allowed), 'sh', '-c', 'echo "$GREETING"']);
    expect(await pollUntil('the greeting server', () => exchange(allowed), { timeoutMs: 30_000 })).toBe('hi from the rules\n');
    expect(await pollUntil('the denying server', () => exchange(denied), { timeoutMs: 30_000 })).toBe('');
    await pollUntil('tcpserver to log the deny', () => /tcpserver: deny \d+ /.test(denier.stderr()), { timeoutMs: 30_000 });
  });

  it.skipIf(!DAEMONTOOLS || !UCSPI || !DJBDNS)(`djbdns: tinydns-data compiles a data file that tinydns-get answers from; tinydns-conf's run script survives upgrades${why('the three tarball variables', DAEMONTOOLS && UCSPI && DJBDNS)}`, async () => {
    const cmd = (n: string) => path.join(root, 'command', n);
    const work = path.join(base, 'tinydns');
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(work, 'data'), '.example.test::ns.example.test\n=www.example.test:10.1.2.3:86400\n');
    ok(await run(cmd('tinydns-data'), [], { cwd: work }));
    const got = ok(await run(cmd('tinydns-get'), ['a', 'www.example.test'], { cwd: work })).stdout;
    expect(got).toContain('answer: www.example.test 86400 A 10.1.2.3\n');
    expect(got).toContain('authoritative, noerror');

    const svc = path.join(work, 'svc');
    ok(await run(cmd('tinydns-conf'), ['nobody', 'nobody', svc, '127.0.0.1']));
    const runScript = readFileSync(path.join(svc, 'run'), 'utf8');
    expect(runScript).toContain(' /package/net/djbdns/bin/tinydns\n');
    expect(realpathSync(path.join(root, 'package/net/djbdns/bin/tinydns'))).toBe(realpathSync(path.join(root, 'package/net/djbdns-1.05/command/tinydns')));

    const refused = await djb(['remove', 'ucspi-tcp']);
    expect(refused.code).toBe(100);
    expect(refused.stderr.split('\n')[0]).toBe('djbpkg: fatal: ucspi-tcp is required by djbdns 1.05; not removing it');
  });

  it.skipIf(!DAEMONTOOLS)(`daemontools --build native --with sigq12: djb's C programs, the compile's own sysdeps, and svc -1 delivers SIGUSR1${why('DJBPKG_UPSTREAM_TARBALL', DAEMONTOOLS)}`, async () => {
    const r2 = path.join(base, 'root-native');
    mkdirSync(r2);
    const rep = JSON.parse(ok(await djbpkg(['install', 'daemontools', '--build', 'native', '--with', 'sigq12', '--json', '--root', r2, '--mirror', mirror ?? (await mirrorOf({ 'daemontools-0.76.tar.gz': DAEMONTOOLS })), '--distfiles', dist], { timeoutMs: 840_000 })).stdout) as Record<string, unknown>;
    const pkg = path.join(r2, 'package/admin/daemontools-0.76');
    expect(rep).toMatchObject({ build: 'native', patches: ['errno', 'sigq12'], missing: [] });
    expect((rep.commands as string[]).length).toBe(17);
    const cmd = (n: string) => path.join(r2, 'command', n);
    expect(readFileSync(cmd('supervise')).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(buildRecord(pkg)).toMatch(/^sysdeps: compile\/sysdeps$/m);
    const sd = ok(await djbpkg(['sysdeps', 'daemontools', '--root', r2]));
    expect(sd.stdout).toBe(readFileSync(path.join(pkg, 'compile/sysdeps'), 'utf8'));
    expect(sd.stdout).toContain('/* sysdep: +flock */');
    ok(await djbpkg(['verify', 'daemontools', '--root', r2, '--distfiles', dist]));

    const svdir = path.join(base, 'usr1-service');
    mkdirSync(svdir);
    writeFileSync(path.join(svdir, 'run'), "#!/bin/sh\ntrap 'echo usr1 >> got' USR1\necho up > started\nwhile :; do sleep 1 & wait $!; done\n", { mode: 0o755 });
    const sup = startProcess(cmd('supervise'), [svdir]);
    await pollUntil('the service to start', () => existsSync(path.join(svdir, 'started')), { timeoutMs: 30_000 });
    ok(await run(cmd('svc'), ['-1', svdir]));
    await pollUntil('SIGUSR1 to reach the service', () => existsSync(path.join(svdir, 'got')) && readFileSync(path.join(svdir, 'got'), 'utf8') === 'usr1\n', { timeoutMs: 30_000 });
    expect(ok(await run(cmd('svstat'), [svdir])).stdout).toMatch(/: up \(pid \d+\) \d+ seconds\n$/);
    ok(await run(cmd('svc'), ['-dx', svdir]));
    await sup.exited;
  });
});
