// The Node chain's memory limits against V8's background threads (docs/fast-path.md): runs our installed
// `softlimit -m/-d/-a ... /bin/echo ok` RUNS times, 2 at a time, with 2 busy loops as extra load, once
// as shipped (limits set by util-linux prlimit(1) after the execve) and once with the limits set
// in the Node process before its execve (DJBPKG_TEST_UTILLINUX=none), and counts failed runs.
// Usage: npm run build && node bench/limits-race.mjs [runs]   (default 200)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildTs } from '../dist/install/build.js';
import { cleanup, DIST_BIN, tmp } from './supervision-lib.mjs';

const RUNS = Number(process.argv[2]) || 200;
const base = tmp('bench-limits-race-');
const pkg = path.join(base, 'package/admin/daemontools-0.76');
await buildTs(pkg, 'daemontools 0.76', ['softlimit', 'setuidgid'], path.join(DIST_BIN, '../runtime'));
const OPTS = [['-m', '100000000'], ['-d', '3000000'], ['-a', '50000000'], ['-m', '3000000']];

function once(env, i) {
  return new Promise((resolve) => {
    const c = spawn(path.join(pkg, 'command/softlimit'), [...OPTS[i % OPTS.length], '/bin/echo', 'ok'], { env: { PATH: `${pkg}/command:/usr/bin:/bin`, ...env } });
    let out = '';
    c.stdout.on('data', (b) => (out += b));
    c.stderr.on('data', (b) => (out += b));
    c.on('close', (code, sig) => resolve(code === 0 && out === 'ok\n' ? undefined : `${OPTS[i % OPTS.length].join(' ')}: ${code ?? sig} ${out.trim().split('\n')[0]}`));
  });
}

async function loop(env) {
  const failures = [];
  let next = 0;
  const worker = async () => {
    while (next < RUNS) {
      const f = await once(env, next++);
      if (f) failures.push(f);
    }
  };
  await Promise.all([worker(), worker()]);
  return failures;
}

const burners = [0, 1].map(() => spawn('/bin/sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const b of burners) b.kill('SIGKILL');
    cleanup(base);
    process.exit(1);
  });
}
try {
  console.log(`node ${process.version}; ${RUNS} runs each; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} at start`);
  for (const [name, env] of [['limits through prlimit(1)', {}], ['limits set in Node before execve', { DJBPKG_TEST_UTILLINUX: 'none' }]]) {
    const f = await loop(env);
    console.log(`${name}: ${f.length} of ${RUNS} failed${f.length ? ` (first: ${f[0]})` : ''}`);
  }
} finally {
  for (const b of burners) b.kill('SIGKILL');
  cleanup(base);
}
