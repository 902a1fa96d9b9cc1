// Runs every benchmark in bench/ one after the other and writes what they
// print, with the machine, load average, node version and commit, to
// bench/results/DATE-COMMIT.md. `npm run bench` builds first.
//
//   node bench/run.mjs                    # the full runs, as the committed figures were made
//   BENCH_QUICK=1 node bench/run.mjs      # tiny sizes: checks that every benchmark runs (minutes)
//   BENCH_ONLY=chain,multilog node bench/run.mjs   # some of them
//
// Quick runs are written as DATE-COMMIT-quick.md (ignored by git): their
// figures are too small to mean anything.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.dirname(BENCH);
const QUICK = Boolean(process.env.BENCH_QUICK);
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((s) => s.trim()) : undefined;
const ROOT = process.getuid?.() === 0;

/** Every benchmark with its full and quick arguments; `needs` is why it cannot run here, if it cannot. */
const BENCHMARKS = [
  { name: 'supervision-memory', full: ['10', '100', '1000'], quick: ['10'] },
  { name: 'supervision-restart', full: ['20'], quick: ['3'] },
  { name: 'supervision-startup', full: ['40'], quick: ['5'] },
  { name: 'chain', full: ['20'], quick: ['3'] },
  { name: 'multilog', full: [], quick: ['--lines', '20000', '--runs', '1'] },
  { name: 'loghost', full: ['10', '50', '200', '1000'], quick: ['3'], needs: ROOT ? undefined : 'needs root (it reads /proc/PID/pagemap)' },
];

function git(...args) {
  const r = spawnSync('git', args, { cwd: PROJECT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const meminfo = existsSync('/proc/meminfo') ? readFileSync('/proc/meminfo', 'utf8') : '';
  const memKb = Number(/^MemTotal:\s*(\d+)/m.exec(meminfo)?.[1] ?? 0);
  const mem = memKb ? `${(memKb / 1024 / 1024).toFixed(1)} GiB` : `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  const c = existsSync('/usr/bin/svscan');
  const dpkg = c ? spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'daemontools'], { encoding: 'utf8' }) : undefined;
  const cVersion = c ? `C daemontools in /usr/bin${dpkg?.status === 0 && dpkg.stdout ? ` (Debian package ${dpkg.stdout})` : ''}` : 'no C daemontools in /usr/bin: no comparison with C';
  return [
    `- CPUs: ${os.availableParallelism?.() ?? os.cpus().length} (nproc), ${model}`,
    `- memory: ${mem}`,
    `- kernel: ${os.type()} ${os.release()} ${os.arch()}`,
    `- node: ${process.version}`,
    `- ${cVersion}`,
    `- running as ${ROOT ? 'root' : `uid ${process.getuid?.()}`}`,
  ].join('\n');
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function runOne(args) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, args, { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => {
      out += b;
      process.stdout.write(b);
    });
    child.stderr.on('data', (b) => {
      err += b;
      process.stderr.write(b);
    });
    child.on('close', (code, signal) => resolve({ code, signal, out, err, secs: (Date.now() - t0) / 1000 }));
  });
}

/**
 * A benchmark's output as Markdown: its tables kept as they are (rows printed
 * between other lines rejoin their table), the lines before the first table as
 * a paragraph, and any other lines in a code block after the tables. Output
 * without a table goes into one code block.
 */
function asMarkdown(text) {
  const lines = text.trimEnd().split('\n');
  if (!lines.some((l) => /^\|.*\|$/.test(l))) return text.trim() ? '```\n' + text.trimEnd() + '\n```' : '(no output)';
  const intro = [];
  const tables = [];
  const rest = [];
  lines.forEach((l, i) => {
    if (/^\|.*\|$/.test(l)) {
      if (/^\|[-:| ]+\|$/.test(lines[i + 1] ?? '') || tables.length === 0) tables.push([]);
      tables[tables.length - 1].push(l);
    } else if (l.trim()) (tables.length ? rest : intro).push(l);
  });
  const parts = [];
  if (intro.length) parts.push(intro.join('\n'));
  parts.push(...tables.map((t) => t.join('\n')));
  if (rest.length) parts.push('```\n' + rest.join('\n') + '\n```');
  return parts.join('\n\n');
}

const date = new Date().toISOString().slice(0, 10);
const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
const dirty = git('status', '--porcelain', '--untracked-files=no') ? '-dirty' : '';
const results = path.join(BENCH, 'results');
mkdirSync(results, { recursive: true });
let file = path.join(results, `${date}-${commit}${dirty}${QUICK ? '-quick' : ''}.md`);
for (let n = 2; existsSync(file); n++) file = path.join(results, `${date}-${commit}${dirty}${QUICK ? '-quick' : ''}-${n}.md`);

const started = new Date();
const startLoad = load();
const sections = [];
let failed = 0;
for (const b of BENCHMARKS) {
  if (ONLY && !ONLY.includes(b.name)) continue;
  const args = [path.join('bench', `${b.name}.mjs`), ...(QUICK ? b.quick : b.full)];
  const command = `node ${args.join(' ')}`;
  if (b.needs) {
    sections.push(`## ${b.name}\n\n    ${command}\n\nNot run: ${b.needs}.`);
    console.error(`bench: ${b.name}: not run: ${b.needs}`);
    continue;
  }
  console.error(`bench: ${command}`);
  const before = load();
  const r = await runOne(args);
  const status = r.code === 0 ? '' : `\n\n**Failed**: exit ${r.code ?? r.signal}.${r.err.trim() ? `\n\n\`\`\`\n${r.err.trim()}\n\`\`\`` : ''}`;
  if (r.code !== 0) failed++;
  sections.push(
    `## ${b.name}\n\n    ${command}\n\nLoad average before ${before}, after ${load()}; took ${r.secs.toFixed(0)} s.\n\n${asMarkdown(r.out)}${status}`,
  );
}

const text = `# Benchmarks${QUICK ? ' (quick mode: sizes too small to mean anything)' : ''}, ${started.toISOString().replace(/\.\d+Z$/, 'Z')}

Commit \`${commit}\`${dirty ? ' with uncommitted changes' : ''}${git('log', '-1', '--format=%s') ? ` (${git('log', '-1', '--format=%s')})` : ''}; written by \`${QUICK ? 'BENCH_QUICK=1 ' : ''}npm run bench\`.
What each figure means and its anchor: [bench/README.md](../README.md).

Machine:

${machine()}
- load average at the start: ${startLoad} (1, 5, 15 minutes); at the end: ${load()}

${sections.join('\n\n')}
`;
writeFileSync(file, text);
console.error(`bench: wrote ${path.relative(PROJECT, file)}${failed ? `; ${failed} benchmark(s) failed` : ''}`);
process.exitCode = failed ? 1 : 0;
