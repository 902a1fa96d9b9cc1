#!/usr/bin/env node
// Throughput of our multilog and tai64n against the C programs of daemontools
// 0.76 (/usr/bin/multilog, /usr/bin/tai64n when installed).
//
//   node bench/multilog.mjs [--lines N] [--runs R]
//
// Input: N lines (default 2 000 000) of mixed length, generated to a file
// first. multilog runs as `multilog t s1000000 n20 ./dir`, once with stdin
// redirected from the file and once fed through a pipe (`cat FILE |`, as under
// supervise); tai64n runs `tai64n < FILE > /dev/null`. Best of R runs (default 3).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const LINES = opt('--lines', 2_000_000);
const RUNS = opt('--runs', 3);
const DIST = fileURLToPath(new URL('../dist/bin/', import.meta.url));
const OURS_MULTILOG = `${process.execPath} ${DIST}multilog.js`;
const OURS_TAI64N = `${process.execPath} ${DIST}tai64n.js`;
const C_MULTILOG = fs.existsSync('/usr/bin/multilog') ? '/usr/bin/multilog' : undefined;
const C_TAI64N = fs.existsSync('/usr/bin/tai64n') ? '/usr/bin/tai64n' : undefined;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'djbpkg-bench-'));
const input = path.join(work, 'input');

function generate() {
  const fd = fs.openSync(input, 'w');
  let x = 987654;
  const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff);
  const text = 'the quick brown fox jumps over the lazy dog 0123456789 '.repeat(40);
  let batch = [];
  for (let i = 0; i < LINES; i++) {
    const k = rnd() % 100;
    const len = k < 60 ? 20 + (rnd() % 60) : k < 95 ? 80 + (rnd() % 200) : 300 + (rnd() % 1500);
    batch.push(`line ${i} ${text.slice(0, len)}`);
    if (batch.length === 10000) {
      fs.writeSync(fd, batch.join('\n') + '\n');
      batch = [];
    }
  }
  if (batch.length) fs.writeSync(fd, batch.join('\n') + '\n');
  fs.closeSync(fd);
}

function timeShell(cmd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/bin/sh', ['-c', cmd], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd}`);
  return secs;
}

function best(cmdFor) {
  let b = Infinity;
  for (let i = 0; i < RUNS; i++) {
    fs.rmSync(path.join(work, 'dir'), { recursive: true, force: true });
    b = Math.min(b, timeShell(cmdFor()));
  }
  return b;
}

generate();
const bytes = fs.statSync(input).size;
const mb = bytes / 1e6;
console.log(`input: ${LINES} lines, ${mb.toFixed(1)} MB; best of ${RUNS}; node ${process.version}; ${os.cpus().length} cpus`);
const row = (name, secs) =>
  console.log(`${name.padEnd(44)} ${secs.toFixed(3).padStart(7)} s  ${(LINES / secs / 1e6).toFixed(2).padStart(5)} M lines/s  ${(mb / secs).toFixed(1).padStart(6)} MB/s`);

const cases = [
  ['multilog t s1000000 n20 ./dir < FILE', (prog) => `${prog} t s1000000 n20 ./dir < input`],
  ['cat FILE | multilog t s1000000 n20 ./dir', (prog) => `cat input | ${prog} t s1000000 n20 ./dir`],
  ['tai64n < FILE > /dev/null', (prog) => `${prog} < input > /dev/null`],
];
for (const [label, make] of cases) {
  const isTai = label.startsWith('tai64n');
  const ours = best(() => make(isTai ? OURS_TAI64N : OURS_MULTILOG));
  row(`ours: ${label}`, ours);
  const cProg = isTai ? C_TAI64N : C_MULTILOG;
  if (cProg) {
    const c = best(() => make(cProg));
    row(`C:    ${label}`, c);
    console.log(`ratio (C time / our time; >1 means ours is faster): ${(c / ours).toFixed(2)}x`);
  } else {
    console.log('C program not installed: no comparison');
  }
}
fs.rmSync(work, { recursive: true, force: true });
