// Wall time of one svstat / svc call vs `node -e 0` (and the C programs, when installed).
// Also the installed form: the esbuild bundle alone, and the command wrapper a
// `ts` build writes (sh + readlink + the package's own bundle).
// Usage: node bench/supervision-startup.mjs [runs]   (default 40)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildTs } from '../dist/install/build.js';
import { cleanup, DIST_BIN, hasC, killTree, makeServices, median, startDetached, statusPid, tmp, until } from './supervision-lib.mjs';

const runs = Number(process.argv[2]) || 40;
const root = tmp('bench-startup-');
makeServices(root, 1);
const dir = path.join(root, 's0');
const sup = startDetached(process.execPath, [path.join(DIST_BIN, 'supervise.js'), dir]);

/** Medians of each command's wall time; rounds interleave the commands so load drifts hit all alike. */
function timeAll(cmds) {
  const xs = cmds.map(() => []);
  for (let i = 0; i < runs; i++) {
    cmds.forEach(([, cmd, args], k) => {
      const t0 = performance.now();
      const r = spawnSync(cmd, args, { stdio: 'ignore' });
      xs[k].push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    });
  }
  return cmds.map(([name], k) => [name, median(xs[k])]);
}

const pkg = path.join(root, 'package/admin/daemontools-0.76');
await buildTs(pkg, 'daemontools 0.76', ['svstat', 'svc'], path.join(DIST_BIN, '../runtime'));

try {
  await until('up', () => statusPid(dir));
  const cmds = [
    ['node -e 0', process.execPath, ['-e', '0']],
    ['svstat DIR', process.execPath, [path.join(DIST_BIN, 'svstat.js'), dir]],
    ['svc -a DIR', process.execPath, [path.join(DIST_BIN, 'svc.js'), '-a', dir]],
    ['svok DIR', process.execPath, [path.join(DIST_BIN, 'svok.js'), dir]],
    ['svstat DIR (bundle)', process.execPath, [path.join(DIST_BIN, '../runtime/svstat.js'), dir]],
    ['svc -a DIR (bundle)', process.execPath, [path.join(DIST_BIN, '../runtime/svc.js'), '-a', dir]],
    ['command/svstat DIR (installed wrapper)', path.join(pkg, 'command/svstat'), [dir]],
    ['command/svc -a DIR (installed wrapper)', path.join(pkg, 'command/svc'), ['-a', dir]],
  ];
  if (hasC('svstat')) cmds.push(['C svstat DIR', '/usr/bin/svstat', [dir]], ['C svc -a DIR', '/usr/bin/svc', ['-a', dir]]);
  const rows = timeAll(cmds);
  const base = rows[0][1];
  console.log(`median wall time of ${runs} runs`);
  console.log('| command | ms | ratio to node -e 0 |');
  console.log('|---|---:|---:|');
  for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms / base).toFixed(2)} |`);
} finally {
  killTree(sup.pid);
  cleanup(root);
}
