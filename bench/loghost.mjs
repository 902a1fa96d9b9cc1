// Realistic supervision tree (the commands installed as `djbpkg install`
// writes them; svscan run with the V8 flags svscanboot gives it): N services, each with a logger running
// `setuidgid nobody multilog t ./main`; ours (svscan hosting the loggers)
// against C daemontools 0.76, in one run. Reports the tree's footprint and
// the time from svscan's start until every service is up and has logged
// its first line.
//
//   node bench/loghost.mjs 10 50 200 1000
//   BENCH_LOG_USERS=3 node bench/loghost.mjs 10 50 200 1000   (loggers as nobody, daemon, bin in turn:
//                                                               three log hosts for ours)
//
// Footprint: every resident page of the tree's processes (svscan,
// supervise, multilog, placeholders; services left out) counted once, by
// physical frame (/proc/PID/pagemap, needs root): private pages plus each
// shared page once, whoever else maps it. Not PSS. Run after `npm run build`.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readFileSync, readSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanup, killTree, tmp, tree, until } from './supervision-lib.mjs';
import { buildTs } from '../dist/install/build.js';

const RUNTIME = fileURLToPath(new URL('../dist/runtime/', import.meta.url));
const COMMANDS = ['svscan', 'supervise', 'svc', 'svstat', 'multilog', 'setuidgid'];
const SVSCAN_NODE_FLAGS = ['--max-semi-space-size=1', '--jitless', '--no-expose-wasm'];
const PAGE = 4096;
/** Log users, taken in turn by the services (BENCH_LOG_USERS of them). */
const USERS = [['nobody', 65534], ['daemon', 1], ['bin', 2]].slice(0, Math.max(1, Math.min(3, Number(process.env.BENCH_LOG_USERS ?? 1))));

/** Our commands installed as `djbpkg install` lays them out (wrappers in PKG/command, bundles in PKG/runtime). */
async function setup(n, ours) {
  const base = tmp('djbpkg-bench-loghost-');
  chmodSync(base, 0o755);
  const pkg = path.join(base, 'package/admin/daemontools-0.76');
  await buildTs(pkg, 'daemontools 0.76', COMMANDS, RUNTIME);
  const bin = path.join(base, 'command');
  mkdirSync(bin);
  for (const c of COMMANDS) symlinkSync(`../package/admin/daemontools-0.76/command/${c}`, path.join(bin, c));
  const svc = path.join(base, 'service');
  mkdirSync(svc);
  for (let i = 0; i < n; i++) {
    const d = path.join(svc, `s${i}`);
    mkdirSync(path.join(d, 'log', 'main'), { recursive: true });
    const [user, uid] = USERS[i % USERS.length];
    chownSync(path.join(d, 'log', 'main'), uid, uid);
    writeFileSync(path.join(d, 'run'), '#!/bin/sh\necho up\nexec sleep 100000\n', { mode: 0o755 });
    writeFileSync(path.join(d, 'log', 'run'), `#!/bin/sh\nexec setuidgid ${user} multilog t ./main\n`, { mode: 0o755 });
  }
  const env = { PATH: ours ? `${bin}:/usr/bin:/bin` : '/usr/bin:/bin', LANG: 'C' };
  return { base, svc, env, svscanJs: path.join(pkg, 'runtime/svscan.js') };
}

function statusPid(dir) {
  try {
    return readFileSync(path.join(dir, 'supervise/status')).readUInt32LE(12);
  } catch {
    return 0;
  }
}

function logged(dir) {
  try {
    return statSync(path.join(dir, 'log/main/current')).size > 0;
  } catch {
    return false;
  }
}

/** Distinct physical pages resident in `pids`, in MB. */
function footprintMb(pids) {
  const frames = new Set();
  const buf = Buffer.alloc(8 * 4096);
  for (const pid of pids) {
    let maps;
    let fd;
    try {
      maps = readFileSync(`/proc/${pid}/maps`, 'latin1');
      fd = openSync(`/proc/${pid}/pagemap`, 'r');
    } catch {
      continue;
    }
    try {
      for (const line of maps.split('\n')) {
        const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(line);
        if (!m || m[3].startsWith('---')) continue;
        const first = Number.parseInt(m[1], 16) / PAGE;
        const end = Number.parseInt(m[2], 16) / PAGE;
        for (let p = first; p < end; p += 4096) {
          const count = Math.min(4096, end - p);
          const got = readSync(fd, buf, 0, count * 8, p * 8);
          for (let i = 0; i + 8 <= got; i += 8) {
            const v = buf.readBigUInt64LE(i);
            if (v >> 63n) frames.add(v & ((1n << 55n) - 1n));
          }
        }
      }
    } catch {
      // the process is gone, or a region cannot be read (vsyscall)
    } finally {
      closeSync(fd);
    }
  }
  return (frames.size * PAGE) / 1e6;
}

async function measure(n, ours) {
  const { base, svc, env, svscanJs } = await setup(n, ours);
  const dirs = Array.from({ length: n }, (_, i) => path.join(svc, `s${i}`));
  const t0 = performance.now();
  const child = ours
    ? spawn(process.execPath, [...SVSCAN_NODE_FLAGS, svscanJs, svc], { env, stdio: 'ignore', detached: true })
    : spawn('/usr/bin/svscan', [svc], { env, stdio: 'ignore', detached: true });
  try {
    await until(
      'every service up and logged',
      () => dirs.every((d) => statusPid(d) > 0 && logged(d)),
      Number(process.env.BENCH_TIMEOUT_MS ?? 3_600_000),
      100,
    );
    const startup = (performance.now() - t0) / 1000;
    // Let start-up work finish (the last hand-overs, svscan's heap) before counting pages.
    await new Promise((r) => setTimeout(r, 5000));
    const services = new Set(dirs.flatMap((d) => tree(statusPid(d))));
    const pids = tree(child.pid).filter((p) => !services.has(p));
    const placeholders = ours ? dirs.map((d) => statusPid(path.join(d, 'log'))) : [];
    const all = [...new Set([...pids, ...placeholders])];
    return { startup, mb: footprintMb(all), procs: all.length };
  } finally {
    const services = dirs.flatMap((d) => [statusPid(d), statusPid(path.join(d, 'log'))]).filter((p) => p > 0);
    killTree(child.pid);
    for (const p of services) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
    cleanup(base);
  }
}

const ns = process.argv.slice(2).map(Number);
if (ns.length === 0) ns.push(10, 50, 200);
console.log('| N | ours MB (procs) | C MB (procs) | ours/C | ours start s | C start s |');
console.log('|---:|---:|---:|---:|---:|---:|');
for (const n of ns) {
  const c = await measure(n, false);
  console.error(`N=${n} C: ${c.mb.toFixed(1)} MB (${c.procs}), start ${c.startup.toFixed(1)} s`);
  const o = await measure(n, true);
  console.error(`N=${n} ours: ${o.mb.toFixed(1)} MB (${o.procs}), start ${o.startup.toFixed(1)} s`);
  console.log(
    `| ${n} | ${o.mb.toFixed(1)} (${o.procs}) | ${c.mb.toFixed(1)} (${c.procs}) | ${(o.mb / c.mb).toFixed(2)} | ${o.startup.toFixed(1)} | ${c.startup.toFixed(1)} |`,
  );
}
