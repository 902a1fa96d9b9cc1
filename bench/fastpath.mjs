// supervise's fast path (docs/fast-path.md): boot, crash-loop CPU and restart latency, ours vs C 0.76.
// Ours is the installed form (PKG/command wrappers, as `djbpkg install` writes them), C is Debian's
// daemontools in /usr/bin. Run as root (setuidgid nobody), on an otherwise quiet machine.
// Usage: npm run build && node bench/fastpath.mjs [boot-Ns] [crash-seconds]   (default "50,200" 15)
//        BENCH_QUICK=1 node bench/fastpath.mjs   (restart latency only, ours vs C, the chain and one more)
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildTs } from '../dist/install/build.js';
import { cleanup, DIST_BIN, hasC, killAndTimeRestart, killTree, median, startDetached, statusPid, tmp, tree, until } from './supervision-lib.mjs';

const QUICK = !!process.env.BENCH_QUICK;
const Ns = QUICK ? [] : (process.argv[2] || '50,200').split(',').map(Number);
const crashSeconds = Number(process.argv[3]) || 15;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK = 100;

const COMMANDS = ['svscan', 'supervise', 'multilog', 'envdir', 'envuidgid', 'setuidgid', 'softlimit', 'pgrphack', 'setlock', 'fghack', 'svc', 'svstat', 'svok'];
const base = tmp('bench-fastpath-');
chmodSync(base, 0o755);
const pkg = path.join(base, 'package/admin/daemontools-0.76');
await buildTs(pkg, 'daemontools 0.76', COMMANDS, path.join(DIST_BIN, '../runtime'));
const OURS_PATH = `${pkg}/command:/usr/bin:/bin`;

/** The chain, and the same without softlimit or without setuidgid. */
const UTIL_LINUX = ['setpriv', 'prlimit'].every((t) => existsSync(`/usr/bin/${t}`) || existsSync(`/bin/${t}`));
const CHAINS = {
  'envdir setuidgid softlimit': 'envdir ./env setuidgid nobody softlimit -m 100000000',
  'envdir setuidgid': 'envdir ./env setuidgid nobody',
  'envdir softlimit': 'envdir ./env softlimit -m 100000000',
};

function impl(kind) {
  if (kind === 'C') return { svscan: ['/usr/bin/svscan'], env: { PATH: '/usr/bin:/bin' } };
  const env = { PATH: OURS_PATH };
  if (kind === 'ours, fast path off') env.DJBPKG_TEST_FASTPATH = 'off';
  return { svscan: [path.join(pkg, 'command/svscan')], env };
}

function makeScan(root, n, chain, prog, logged) {
  for (let i = 0; i < n; i++) {
    const d = path.join(root, `s${i}`);
    mkdirSync(path.join(d, 'env'), { recursive: true });
    writeFileSync(path.join(d, 'env', 'N'), `${i}\n`);
    writeFileSync(path.join(d, 'run'), `#!/bin/sh\nexec 2>&1\nexec ${chain} ${prog}\n`, { mode: 0o755 });
    if (logged) {
      mkdirSync(path.join(d, 'log/main'), { recursive: true });
      chownSync(path.join(d, 'log/main'), 65534, 65534);
      writeFileSync(path.join(d, 'log/run'), '#!/bin/sh\nexec setuidgid nobody multilog t ./main\n', { mode: 0o755 });
    }
  }
}

function exeOf(pid) {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

/** Seconds from svscan's start until every service runs `sleep` and, when logged, its first line is in its log. */
async function boot(kind, n, chain) {
  const root = path.join(base, `boot-${Math.random().toString(36).slice(2)}`);
  mkdirSync(root);
  makeScan(root, n, chain, `/bin/sh -c 'echo started; exec sleep 100000'`, true);
  const { svscan, env } = impl(kind);
  const t0 = performance.now();
  const p = startDetached(svscan[0], [...svscan.slice(1), root], { cwd: root, env });
  const dirs = [...Array(n).keys()].map((i) => path.join(root, `s${i}`));
  let up = 0;
  try {
    await until('all up', () => dirs.every((d) => exeOf(statusPid(d)).endsWith('/sleep')), 600_000, 20);
    up = (performance.now() - t0) / 1000;
    await until('all logging', () => dirs.every((d) => existsSync(path.join(d, 'log/main/current')) && readFileSync(path.join(d, 'log/main/current'), 'utf8').includes(' started')), 600_000, 20);
    const logging = (performance.now() - t0) / 1000;
    const how = dirs.map((d) => /^run (\S+)$/m.exec(safeRead(path.join(d, 'supervise/child')))?.[1] ?? '-');
    return { up, logging, how: [...new Set(how)].join('/') };
  } finally {
    killTree(p.pid);
    await sleep(300);
    cleanup(root);
  }
}

function safeRead(f) {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

/** utime+stime+cutime+cstime of every process of the tree, in ticks (dead children count in their reaper's c*time). */
function treeTicks(pid) {
  let t = 0;
  for (const p of tree(pid)) {
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      t += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {}
  }
  return t;
}

/** CPU seconds the tree spends over `crashSeconds` with 5 services whose program fails at once. */
async function crash(kind, chain) {
  const root = path.join(base, `crash-${Math.random().toString(36).slice(2)}`);
  mkdirSync(root);
  makeScan(root, 5, chain, '/bin/false', false);
  const { svscan, env } = impl(kind);
  const p = startDetached(svscan[0], [...svscan.slice(1), root], { cwd: root, env });
  try {
    await sleep(3000);
    const c0 = treeTicks(p.pid);
    await sleep(crashSeconds * 1000);
    const how = [...new Set([...Array(5).keys()].map((i) => /^run (\S+)$/m.exec(safeRead(path.join(root, `s${i}`, 'supervise/child')))?.[1] ?? '-'))].join('/');
    return { cpu: (treeTicks(p.pid) - c0) / TICK, how };
  } finally {
    killTree(p.pid);
    await sleep(300);
    cleanup(root);
  }
}

/** Milliseconds from SIGKILL of the service to its next pid in supervise/status (median of `rounds`). */
async function restart(kind, chain, rounds = 10) {
  const root = path.join(base, `restart-${Math.random().toString(36).slice(2)}`);
  mkdirSync(root);
  makeScan(root, 1, chain, '/bin/sleep 100000', false);
  const dir = path.join(root, 's0');
  const { svscan, env } = impl(kind);
  const p = startDetached(svscan[0], [...svscan.slice(1), root], { cwd: root, env });
  const out = [];
  let how = '';
  try {
    let pid = await until('up', () => statusPid(dir));
    for (let i = 0; i < rounds; i++) {
      const { ms, next } = await killAndTimeRestart(dir, pid);
      out.push(ms);
      // Up means the program itself, not a shell or Node still on its way to it.
      await until('program', () => exeOf(next).endsWith('/sleep'), 10_000, 1);
      pid = next;
    }
  } finally {
    how = /^run (\S+)$/m.exec(safeRead(path.join(dir, 'supervise/child')))?.[1] ?? '-';
    killTree(p.pid);
    await sleep(300);
    cleanup(root);
  }
  return { times: out, how };
}

const kinds = hasC('svscan') ? ['ours', 'C'] : ['ours'];
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`node ${process.version}; util-linux setpriv+prlimit ${UTIL_LINUX ? 'yes' : 'no (setuidgid chains take ./run)'}; ${new Date().toISOString()}; load average ${load()}`);
console.log('\n### Boot: N logged services, seconds until all run their program / all have logged their first line\n');
console.log('| N | chain | ours: up | ours: logging | ours: path | C: up | C: logging | logging ours/C |');
console.log('|---:|---|---:|---:|---|---:|---:|---:|');
for (const n of Ns) {
  for (const [name, chain] of Object.entries(CHAINS)) {
    if (n > 50 && name === 'envdir softlimit') continue;
    const o = await boot('ours', n, chain);
    const c = kinds.includes('C') ? await boot('C', n, chain) : undefined;
    console.log(`| ${n} | ${name} | ${o.up.toFixed(1)} | ${o.logging.toFixed(1)} | ${o.how} | ${c ? c.up.toFixed(1) : '-'} | ${c ? c.logging.toFixed(1) : '-'} | ${c ? (o.logging / c.logging).toFixed(1) + '×' : '-'} |`);
  }
}
if (!QUICK) console.log(`\n### Crash loop: 5 services whose program fails at once, CPU seconds of the whole tree over ${crashSeconds} s\n`);
if (!QUICK) console.log('| chain | ours | ours: path | ours, fast path off | C | ours/C |');
if (!QUICK) console.log('|---|---:|---|---:|---:|---:|');
for (const [name, chain] of QUICK ? [] : Object.entries(CHAINS)) {
  const o = await crash('ours', chain);
  const off = await crash('ours, fast path off', chain);
  const c = kinds.includes('C') ? await crash('C', chain) : undefined;
  console.log(`| ${name} | ${o.cpu.toFixed(2)} | ${o.how} | ${off.cpu.toFixed(2)} | ${c ? c.cpu.toFixed(2) : '-'} | ${c ? (o.cpu / c.cpu).toFixed(1) + '×' : '-'} |`);
}
console.log('\n### Restart latency: SIGKILL of the program to its next pid in supervise/status, median of 18 (ours and C alternately, 3 × 6), ms\n');
console.log('| chain | ours | ours: path | C | load average |');
console.log('|---|---:|---|---:|---|');
for (const [name, chain] of Object.entries(CHAINS)) {
  if (QUICK && name === 'envdir softlimit') continue;
  // Ours and C alternately, so that both see the same load.
  const o = [];
  const c = [];
  let how = '';
  for (let r = 0; r < 3; r++) {
    const m = await restart('ours', chain, 6);
    o.push(...m.times);
    how = m.how;
    if (kinds.includes('C')) c.push(...(await restart('C', chain, 6)).times);
  }
  console.log(`| ${name} | ${median(o).toFixed(1)} | ${how} | ${c.length ? median(c).toFixed(1) : '-'} | ${load()} |`);
}
cleanup(base);
