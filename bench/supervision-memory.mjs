// Memory of the supervision tree (PSS from /proc/PID/smaps_rollup), services excluded.
// Usage: node bench/supervision-memory.mjs [N ...]   (default 10 100 1000)
import path from 'node:path';
import { SVSCAN_NODE_FLAGS } from '../dist/programs/svscanboot.js';
import { cleanup, comm, cpuTicks, DIST_BIN, hasC, killTree, makeServices, pssKb, rssKb, startDetached, statusPid, tmp, tree, until } from './supervision-lib.mjs';

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const Ns = sizes.length ? sizes : [10, 100, 1000];

async function measure(kind, n) {
  const root = tmp(`bench-mem-${kind}-`);
  makeServices(root, n);
  const flags = kind === 'ours-boot' ? SVSCAN_NODE_FLAGS : [];
  const child =
    kind !== 'c'
      ? startDetached(process.execPath, [...flags, path.join(DIST_BIN, 'svscan.js'), root], {
          env: { PATH: process.env.PATH, DJBPKG_SVSCAN_INTERVAL_MS: '1000' },
        })
      : startDetached('/usr/bin/svscan', [root], { env: { PATH: `/usr/bin:${process.env.PATH}` } });
  try {
    await until(`${n} services up (${kind})`, () => {
      for (let i = 0; i < n; i++) if (statusPid(path.join(root, `s${i}`)) === 0) return false;
      return true;
    }, 300_000, 200);
    await new Promise((r) => setTimeout(r, 2000));
    const pids = tree(child.pid).filter((p) => comm(p) !== 'sleep');
    const kb = pids.reduce((a, p) => a + pssKb(p), 0);
    const rss = pids.reduce((a, p) => a + rssKb(p), 0);
    const t0 = pids.reduce((a, p) => a + cpuTicks(p), 0);
    await new Promise((r) => setTimeout(r, 5000));
    const t1 = pids.reduce((a, p) => a + cpuTicks(p), 0);
    return { kb, rss, procs: pids.length, idleCpuPct: ((t1 - t0) / 100 / 5) * 100 };
  } finally {
    killTree(child.pid);
    cleanup(root);
  }
}

const rows = [];
for (const n of Ns) {
  const ours = await measure('ours', n);
  const boot = await measure('ours-boot', n);
  const c = hasC('svscan') ? await measure('c', n) : undefined;
  rows.push({ n, ours, boot, c });
  console.error(`N=${n} done`);
}
const mb = (kb) => (kb / 1024).toFixed(1);
const cell = (m) => (m ? `${mb(m.kb)} / ${mb(m.rss)} (${m.procs}) ${m.idleCpuPct.toFixed(1)}%` : 'n/a');
console.log('PSS MB / RSS MB (processes) idle CPU over 5 s; services excluded');
console.log('| N | ours: node svscan.js | ours as svscanboot runs it | C: svscan + supervise | PSS ours/C | PSS ours-boot/C |');
console.log('|---:|---|---|---|---:|---:|');
for (const { n, ours, boot, c } of rows) {
  const ratio = (m) => (c ? (m.kb / c.kb).toFixed(2) : 'n/a');
  console.log(`| ${n} | ${cell(ours)} | ${cell(boot)} | ${cell(c)} | ${ratio(ours)} | ${ratio(boot)} |`);
}
