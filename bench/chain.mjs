// Wall time and CPU of a chain of loaders before /bin/true, ours (installed
// wrappers over the package's bundles, one Node start per chain) against
// Debian's C daemontools, plus reference rows (node -e 0, one link).
// Usage: node bench/chain.mjs [runs]   (default 30; build first: npm run build)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildTs } from '../dist/install/build.js';
import { cleanup, DIST_BIN, median, tmp } from './supervision-lib.mjs';

const runs = Number(process.argv[2]) || 30;
const root = tmp('bench-chain-');
const pkg = path.join(root, 'package/admin/daemontools-0.76');
const LOADERS = ['envdir', 'envuidgid', 'setuidgid', 'softlimit', 'setlock', 'pgrphack', 'multilog'];
await buildTs(pkg, 'daemontools 0.76', LOADERS, path.join(DIST_BIN, '../runtime'));
// A second package holding only setuidgid: found first on PATH, it is not the
// running program's own runtime, so the chain execs it (and it execs the
// first package's softlimit): a Node start per link, as before chains ran in
// one process.
const other = path.join(root, 'package/admin/other');
await buildTs(other, 'other 1', ['setuidgid'], path.join(DIST_BIN, '../runtime'));
const E = path.join(root, 'E');
mkdirSync(E);
writeFileSync(path.join(E, 'FOO'), 'bar\n');

const TICK = 100; // USER_HZ on Linux
/** CPU seconds (user + system) of this process's reaped children so far. */
function childCpu() {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[13]) + Number(rest[14])) / TICK;
}

const chain = ['E', 'setuidgid', 'nobody', 'softlimit', '-m', '100000000', '/bin/true'];
const asRoot = process.getuid() === 0;
const rows = [
  ['node -e 0', process.execPath, ['-e', '0'], {}],
  ['ours: command/pgrphack /bin/true (one link)', path.join(pkg, 'command/pgrphack'), ['/bin/true'], { PATH: '/usr/bin:/bin' }],
  ['ours: envdir E setuidgid nobody softlimit -m 100000000 /bin/true', path.join(pkg, 'command/envdir'), [E, ...chain.slice(1)], { PATH: `${path.join(pkg, 'command')}:/usr/bin:/bin` }],
  ['ours, a Node start per link (3)', path.join(pkg, 'command/envdir'), [E, ...chain.slice(1)], { PATH: `${path.join(other, 'command')}:${path.join(pkg, 'command')}:/usr/bin:/bin` }],
];
if (existsSync('/usr/bin/envdir')) {
  rows.push(['C: envdir E setuidgid nobody softlimit -m 100000000 /bin/true', '/usr/bin/envdir', [E, ...chain.slice(1)], { PATH: '/usr/bin:/bin' }]);
}
if (!asRoot) throw new Error('run as root (setuidgid nobody)');

/** Median wall ms per command (rounds interleave the commands) and mean CPU ms per run. */
const wall = rows.map(() => []);
const cpu = rows.map(() => 0);
try {
  for (let i = 0; i < runs; i++) {
    rows.forEach(([name, cmd, args, env], k) => {
      const c0 = childCpu();
      const t0 = performance.now();
      const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { LANG: 'C', ...env } });
      wall[k].push(performance.now() - t0);
      cpu[k] += childCpu() - c0;
      if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
    });
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`${runs} runs each, interleaved; load average at the end ${load}`);
  console.log('| command | median wall ms | mean CPU ms (user+sys) |');
  console.log('|---|---:|---:|');
  rows.forEach(([name], k) => console.log(`| ${name} | ${median(wall[k]).toFixed(1)} | ${((cpu[k] / runs) * 1000).toFixed(1)} |`));
} finally {
  cleanup(root);
}
