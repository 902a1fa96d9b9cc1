// Restart latency: SIGKILL the run child, time until supervise/status shows the new pid.
// Usage: node bench/supervision-restart.mjs [rounds]   (default 20)
import path from 'node:path';
import { cleanup, DIST_BIN, hasC, killAndTimeRestart, killTree, makeServices, median, p95, startDetached, statusPid, tmp, until } from './supervision-lib.mjs';

const rounds = Number(process.argv[2]) || 20;

async function measure(kind) {
  const root = tmp(`bench-restart-${kind}-`);
  makeServices(root, 1);
  const dir = path.join(root, 's0');
  const sup =
    kind === 'ours'
      ? startDetached(process.execPath, [path.join(DIST_BIN, 'supervise.js'), dir])
      : startDetached('/usr/bin/supervise', [dir]);
  const out = [];
  try {
    let pid = await until('up', () => statusPid(dir));
    for (let i = 0; i < rounds; i++) {
      const { ms, next } = await killAndTimeRestart(dir, pid);
      out.push(ms);
      pid = next;
    }
  } finally {
    killTree(sup.pid);
    cleanup(root);
  }
  return out;
}

const ours = await measure('ours');
const c = hasC('supervise') ? await measure('c') : undefined;
const f = (x) => x.toFixed(2);
console.log(`restart after SIGKILL of the child, ${rounds} rounds (ms)`);
console.log('| supervise | median | p95 |');
console.log('|---|---:|---:|');
console.log(`| ours | ${f(median(ours))} | ${f(p95(ours))} |`);
if (c) console.log(`| C 0.76 | ${f(median(c))} | ${f(p95(c))} |`);
