/**
 * supervise's fast path (docs/fast-path.md) against `sh ./run` and our Node
 * chain: the same corpus of run scripts under the installed svscan, once
 * with the fast path on and once with it off (DJBPKG_TEST_FASTPATH=off),
 * the final program being a probe (fixtures/probe.c) that writes what it
 * sees: ids, groups, limits, environment, cwd, descriptors, session, signal
 * mask and dispositions, umask, capabilities, argv. The two must be equal,
 * and `supervise/child` must say which scripts took the fast path.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useInstalledRuntime } from '../support/installed.js';
import { pollUntil, startProcess } from '../support/procs.js';
import { tempDir } from '../support/tmp.js';

const rt = useInstalledRuntime();
const isRoot = process.getuid?.() === 0;
/** util-linux's setpriv and prlimit (Debian: Essential), which the fast path execs for setuidgid and softlimit. */
const UTIL_LINUX = ['setpriv', 'prlimit'].every((t) => existsSync(`/usr/bin/${t}`) || existsSync(`/bin/${t}`));
const USER = 'djbfp18u';
const GROUP = 'djbfp18g';
let base = '';
let probeDir = '';
let haveUser = false;

beforeAll(() => {
  base = tempDir('djbpkg-fastpath-');
  chmodSync(base, 0o755);
  probeDir = path.join(base, 'bin');
  mkdirSync(probeDir, { mode: 0o755 });
  execFileSync('cc', ['-O', '-o', path.join(probeDir, 'probe'), path.join(__dirname, 'fixtures/probe.c')]);
  if (isRoot) {
    try {
      execFileSync('groupadd', [GROUP], { stdio: 'ignore' });
    } catch {
      // left from an earlier run
    }
    try {
      execFileSync('useradd', ['-M', '-N', '-g', 'nogroup', '-G', GROUP, '-s', '/usr/sbin/nologin', USER], { stdio: 'ignore' });
    } catch {
      // left from an earlier run
    }
    haveUser = execFileSync('id', ['-G', USER]).toString().trim().split(' ').length >= 2;
  }
});

afterAll(() => {
  if (!isRoot) return;
  try {
    execFileSync('userdel', [USER], { stdio: 'ignore' });
  } catch {
    // not there
  }
  try {
    execFileSync('groupdel', [GROUP], { stdio: 'ignore' });
  } catch {
    // not there
  }
});

interface Service {
  name: string;
  run: string;
  /** Whether the fast path must take it (with the fast path on). */
  fast: boolean;
  /** It changes user (setuidgid). */
  user?: true;
  /** A copy of the probe in the service directory. */
  probeHere?: true;
  env?: Record<string, string>;
}

const P = () => path.join(probeDir, 'probe');

function corpus(): Service[] {
  const u = haveUser ? USER : 'nobody';
  const sh = '#!/bin/sh\n';
  return [
    { name: 'envdir', run: `${sh}exec envdir ./env ${P()} a b\n`, fast: true, env: { A: 'one\ntwo\n', EMPTY: '', TRAIL: 'x \t \t\n', NUL: 'a\0b\n', UNSETME: '', 'MULTI': 'first\nsecond\n', PATH: '/nowhere:/bin:/usr/bin\n' } },
    { name: 'setuidgid', run: `${sh}exec setuidgid ${u} ${P()}\n`, fast: true, user: true },
    { name: 'envuidgid', run: `${sh}exec envuidgid ${u} ${P()}\n`, fast: true },
    { name: 'softall', run: `${sh}exec softlimit -a 300000000 -c 0 -d 200000000 -f 1000000 -l 65536 -o 100 -r 50000000 -s 4000000 -t 100 ${P()}\n`, fast: true },
    { name: 'softm', run: `${sh}exec softlimit -m 100000000 ${P()}\n`, fast: true },
    { name: 'softeq', run: `${sh}exec softlimit -c = -o = -s = ${P()}\n`, fast: true },
    { name: 'softbare', run: `${sh}exec softlimit -m 100000000 probe x\n`, fast: true },
    { name: 'pgrphack', run: `${sh}exec pgrphack ${P()}\n`, fast: true },
    {
      name: 'chain',
      run: `#!/bin/sh -e\n# a comment\n\nexec 2>&1\nexec envdir ./env setuidgid ${u} softlimit -m 100000000 -o 50 pgrphack '${P()}' "x y" '' 'it''s'\n# after\n`,
      fast: true,
      user: true,
      env: { GREETING: 'hello world\n' },
    },
    // The issue's own chain (setuidgid and softlimit together need no CAP_SYS_RESOURCE).
    { name: 'issue', run: `${sh}exec 2>&1\nexec envdir ./env setuidgid nobody softlimit -m 100000000 ${P()} up\n`, fast: true, user: true, env: { N: '7\n' } },
    // softlimit before setuidgid, an account with a supplementary group, a bare name searched in PATH.
    { name: 'softuid', run: `${sh}exec softlimit -a 500000000 -o 20 -c = setuidgid ${u} probe two\n`, fast: true, user: true },
    { name: 'bare', run: `${sh}exec envdir ./env pgrphack probe\n`, fast: true, env: { X: '1\n' } },
    // A relative program: the service directory's own, whatever svscan's cwd.
    { name: 'relative', run: `${sh}exec envdir ./env softlimit -c 0 ./probe here\n`, fast: true, env: {}, probeHere: true },
    { name: 'relfirst', run: `${sh}exec ./probe first\n`, fast: false, probeHere: true },
    // Replayable, but not by the fast path: run as before.
    { name: 'envafteruid', run: `${sh}exec setuidgid ${u} envdir ./env ${P()}\n`, fast: false, env: { Y: '2\n' } },
    // Near-misses: shell constructs.
    { name: 'var', run: `${sh}exec envdir ./env ${P()} $HOME\n`, fast: false, env: {} },
    { name: 'semicolon', run: `${sh}true; exec pgrphack ${P()}\n`, fast: false },
    { name: 'redirect', run: `${sh}exec pgrphack ${P()} 2>/dev/null\n`, fast: false },
    { name: 'glob', run: `${sh}exec pgrphack ${P()} /etc/host*\n`, fast: false },
    { name: 'noshebang', run: `exec pgrphack ${P()}\n`, fast: false },
    { name: 'notloader', run: `${sh}exec ${P()} direct\n`, fast: false },
  ];
}

function makeScan(dir: string, services: Service[]): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const s of services) {
    const d = path.join(dir, s.name);
    mkdirSync(d, { mode: 0o755 });
    writeFileSync(path.join(d, 'run'), s.run, { mode: 0o755 });
    if (s.probeHere) execFileSync('cp', [P(), path.join(d, 'probe')]);
    if (s.env) {
      mkdirSync(path.join(d, 'env'), { mode: 0o755 });
      for (const [k, v] of Object.entries(s.env)) writeFileSync(path.join(d, 'env', k), v);
    }
  }
}

/** Runs svscan on `scan` until every expected probe output is there; returns outputs, `run` fields and svscan's stderr lines. */
async function pass(scan: string, out: string, services: Service[], mode: 'on' | 'off', expectOutput: (s: Service) => boolean, ready: (stderr: string) => boolean = () => true) {
  mkdirSync(out, { recursive: true });
  chmodSync(out, 0o1777);
  // svscan's stdout and stderr (which the services share) are a file: a pipe's O_NONBLOCK flag is shared with svscan, whose Node sets it at will.
  const log = path.join(base, `svscan-${path.basename(out)}.log`);
  const logFd = openSync(log, 'a');
  const svscan = startProcess(rt.command('svscan'), [scan], {
    cwd: scan,
    env: { PATH: `${rt.commandDir}:${probeDir}:/usr/local/bin:/usr/bin:/bin`, PROBE_OUT: out, UNSETME: 'set', DJBPKG_TEST_FASTPATH: mode, PWD: '/' },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const stderr = () => readFileSync(log, 'utf8');
  try {
    await pollUntil(`probes (${mode})`, () => services.filter(expectOutput).every((s) => existsSync(path.join(out, s.name))), { timeoutMs: 60_000, intervalMs: 100 }).catch((err: Error) => {
      const missing = services.filter(expectOutput).filter((s) => !existsSync(path.join(out, s.name))).map((s) => s.name);
      throw new Error(`${err.message}: no output from ${missing.join(' ')}; svscan's stderr: ${stderr().slice(0, 2000)}`);
    });
    // The script near-misses that never start the probe have had their chance by now.
    await pollUntil('child records', () => services.every((s) => existsSync(path.join(scan, s.name, 'supervise/child')) || !expectOutput(s)), { timeoutMs: 60_000, intervalMs: 100 });
    await pollUntil('messages', () => ready(stderr()), { timeoutMs: 30_000, intervalMs: 100 });
    const outputs = new Map<string, string>();
    const how = new Map<string, string>();
    const why = new Map<string, string>();
    for (const s of services) {
      const f = path.join(out, s.name);
      if (existsSync(f)) outputs.set(s.name, normalise(readFileSync(f, 'utf8')));
      const rec = path.join(scan, s.name, 'supervise/child');
      if (existsSync(rec)) how.set(s.name, /^run (\S+)$/m.exec(readFileSync(rec, 'utf8'))?.[1] ?? '');
      if (existsSync(rec)) why.set(s.name, /^why (.*)$/m.exec(readFileSync(rec, 'utf8'))?.[1] ?? '');
    }
    return { outputs, how, why, stderr };
  } finally {
    svscan.child.kill('SIGKILL');
    await svscan.exited;
  }
}

/** Output lines sorted where their order is the shell's (environment), without the switch itself. */
function normalise(text: string): string {
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('env DJBPKG_TEST_FASTPATH=') && !l.startsWith('env PROBE_OUT='));
  const env = lines.filter((l) => l.startsWith('env ')).sort();
  return [...lines.filter((l) => !l.startsWith('env ')), ...env].join('\n');
}

describe('the fast path against sh ./run', () => {
  it('gives every probe the same view, and supervise/child says which took it', async () => {
    expect(UTIL_LINUX, 'util-linux setpriv and prlimit (the fast path for setuidgid and softlimit)').toBe(true);
    const services = corpus();
    const scan = path.join(base, 'service');
    makeScan(scan, services);
    const mustRun = (s: Service) => s.name !== 'noshebang';
    const on = await pass(scan, path.join(base, 'out-on'), services, 'on', mustRun);
    for (const s of services) execFileSync('rm', ['-rf', path.join(scan, s.name, 'supervise')]);
    const off = await pass(scan, path.join(base, 'out-off'), services, 'off', mustRun);
    for (const s of services) {
      if (mustRun(s)) expect(on.outputs.get(s.name), s.name).toBe(off.outputs.get(s.name));
      expect(on.how.get(s.name), `${s.name} with the fast path on`).toBe(s.fast ? 'fast' : 'script');
      expect(off.how.get(s.name) ?? 'script', `${s.name} with the fast path off`).toBe('script');
    }
    // Why a script did not take the fast path is said in supervise/child.
    expect(on.why.get('var')).toBe('./run is not a plain exec script');
    expect(on.why.get('envafteruid')).toBe('envdir after setuidgid');
    expect(on.why.get('notloader')).toBe('the program is not one of our loaders');
    expect(off.why.get('envdir')).toBe('fast path off');
    // What the corpus is meant to show is really there.
    const chain = on.outputs.get('chain')!;
    expect(chain).toContain('session-leader 1');
    expect(chain).toContain('argv[2]=[]');
    expect(chain).toContain('argv[3]=[its]');
    expect(chain).toContain('env GREETING=hello world');
    expect(chain).toMatch(/^rlimit 9 100000000 /m);
    expect(chain).toMatch(/^rlimit 7 50 /m);
    const env = on.outputs.get('envdir')!;
    expect(env).toContain('env A=one');
    expect(env).toContain('env TRAIL=x');
    expect(env).toContain('env NUL=a\nb'.split('\n')[0]);
    expect(env).not.toMatch(/^env UNSETME=/m);
    expect(env).not.toMatch(/^env EMPTY=/m);
    expect(env).toContain('fds 0:');
    // 0.76's setuidgid: the account's gid as the one supplementary group (it has another), saved ids too.
    // (This test runs as root: the chain below switches to nobody.)
    expect(haveUser, `the test user ${USER} with a supplementary group`).toBe(true);
    for (const name of ['setuidgid', 'chain', 'softuid']) {
      const gid = /^uid (\d+) \1 \1 gid (\d+) \2 \2$/m.exec(on.outputs.get(name)!)?.[2];
      expect(gid, name).toBeDefined();
      expect(on.outputs.get(name), name).toMatch(new RegExp(`^groups ${gid}$`, 'm'));
    }
    expect(on.outputs.get('issue')).toMatch(/^uid 65534 65534 65534 /m);
    expect(on.outputs.get('issue')).toMatch(/^rlimit 9 100000000 /m);
    expect(on.outputs.get('softuid')).toMatch(/^rlimit 7 20 /m);
  }, 240_000);

  it('leaves every failing chain to ./run: the same messages on stderr', async () => {
    const sh = '#!/bin/sh\n';
    const services: Service[] = [
      { name: 'nodir', run: `${sh}exec envdir ./missing ${P()}\n`, fast: false },
      { name: 'nouser', run: `${sh}exec setuidgid djbfp18-nosuchuser ${P()}\n`, fast: false },
      { name: 'badlimit', run: `${sh}exec softlimit -m 12x ${P()}\n`, fast: false },
      { name: 'noprog', run: `${sh}exec pgrphack /nonexistent/prog\n`, fast: false },
      { name: 'usage', run: `${sh}exec envdir ./env\n`, fast: false, env: {} },
    ];
    const scan = path.join(base, 'failing');
    makeScan(scan, services);
    // An attack on svscan by whoever can write a service directory: a FIFO as ./run must not hang it.
    mkdirSync(path.join(scan, 'fifo'));
    execFileSync('mkfifo', ['-m', '0755', path.join(scan, 'fifo', 'run')]);
    const none = () => false;
    const expected = ['envdir: fatal: unable to switch to directory ./missing', 'setuidgid: fatal: unknown account', 'softlimit: usage', 'unable to run /nonexistent/prog', 'envdir: usage', 'unable to start fifo/run'];
    const lines = async (mode: 'on' | 'off') => {
      const r = await pass(scan, path.join(base, `fail-${mode}`), services, mode, none, (err) => expected.every((e) => err.includes(e)));
      for (const s of services) execFileSync('rm', ['-rf', path.join(scan, s.name, 'supervise')]);
      return { set: new Set(r.stderr().split('\n').filter((l) => l !== '' && !l.startsWith('svscan: info'))), how: r.how };
    };
    const on = await lines('on');
    const off = await lines('off');
    expect([...on.set].sort()).toEqual([...off.set].sort());
    expect([...on.set].some((l) => l.startsWith('envdir: fatal: unable to switch to directory ./missing'))).toBe(true);
    expect([...on.set].some((l) => l.startsWith('setuidgid: fatal: unknown account'))).toBe(true);
    for (const s of services) expect(on.how.get(s.name) ?? 'script', s.name).toBe('script');
  }, 180_000);
});
