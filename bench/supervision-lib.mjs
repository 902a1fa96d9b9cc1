// Shared helpers for the supervision benchmarks (run against dist/).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DIST_BIN = fileURLToPath(new URL('../dist/bin/', import.meta.url));
export const hasC = (name) => {
  try {
    readFileSync(`/usr/bin/${name}`);
    return true;
  } catch {
    return false;
  }
};

export function tmp(prefix) {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** N service dirs whose run execs `sleep` (so the service itself is one sleep process). */
export function makeServices(root, n) {
  for (let i = 0; i < n; i++) {
    const d = path.join(root, `s${i}`);
    mkdirSync(d);
    writeFileSync(path.join(d, 'run'), '#!/bin/sh\nexec sleep 100000\n');
    chmodSync(path.join(d, 'run'), 0o755);
  }
}

export function statusPid(dir) {
  try {
    return readFileSync(path.join(dir, 'supervise/status')).readUInt32LE(12);
  } catch {
    return 0;
  }
}

export async function until(what, fn, timeoutMs = 120_000, stepMs = 50) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

function parents() {
  const m = new Map();
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const s = readFileSync(`/proc/${n}/stat`, 'utf8');
      m.set(Number(n), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  return m;
}

/**
 * Restart latency: waits past supervise's 1-second pause after a start (so the restart is
 * immediate), kills the run `pid` of the service in `dir` with SIGKILL, and spins until
 * supervise/status names another pid. Returns the milliseconds taken and the new pid.
 */
export async function killAndTimeRestart(dir, pid) {
  await new Promise((r) => setTimeout(r, 1200));
  const t0 = performance.now();
  process.kill(pid, 'SIGKILL');
  let next = 0;
  while ((next = statusPid(dir)) === 0 || next === pid) {
    if (performance.now() - t0 > 10_000) throw new Error('no restart');
  }
  return { ms: performance.now() - t0, next };
}

export function tree(pid) {
  const pp = parents();
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [p, q] of pp) if (q === out[i]) out.push(p);
  return out;
}

export function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export function pssKb(pid) {
  const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export function cpuTicks(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

export function killTree(pid) {
  for (const p of tree(pid)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
}

export function startDetached(cmd, args, opts = {}) {
  return spawn(cmd, args, { stdio: 'ignore', detached: true, ...opts });
}

export function node(script, args, opts = {}) {
  return spawnSync(process.execPath, [path.join(DIST_BIN, script), ...args], opts);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function p95(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)];
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export function rssKb(pid) {
  const m = /^Rss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
