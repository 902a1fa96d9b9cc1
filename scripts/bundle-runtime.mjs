// Bundles every daemontools program (src/bin/<prog>.ts, except djbpkg and
// the shared runner) into dist/runtime/<prog>.js with esbuild, so that an
// installed program starts by reading one file. koffi stays external: its
// native binary is copied beside the bundles at install time.
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const src = new URL('../src/bin/', import.meta.url);
const out = new URL('../dist/runtime/', import.meta.url);
const NOT_PROGRAMS = new Set(['djbpkg.ts', 'program.ts']);

const programs = readdirSync(src)
  .filter((f) => f.endsWith('.ts') && !NOT_PROGRAMS.has(f))
  .map((f) => f.slice(0, -3))
  .sort();

mkdirSync(out, { recursive: true });
await build({
  entryPoints: programs.map((p) => ({ in: new URL(p + '.ts', src).pathname, out: p })),
  outdir: out.pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi'],
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
});
// The bundles are ES modules; a package.json beside them says so.
writeFileSync(new URL('package.json', out), JSON.stringify({ type: 'module', private: true }, null, 2) + '\n');
writeFileSync(new URL('programs.json', out), JSON.stringify(programs) + '\n');
