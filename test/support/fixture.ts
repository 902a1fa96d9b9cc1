import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ERRNO_PATCH, daemontoolsMembers, rawTarGz } from './rawtar.js';
import { startServer } from './http.js';
import type { Route } from './http.js';
import { writeRecipe } from './recipe.js';
import { DIST_RUNTIME, djbpkg } from './run.js';
import type { RunResult } from './run.js';
import { digestsOf } from './tarball.js';
import { tempDir } from './tmp.js';

/**
 * package/commands of the synthetic 0.76 tree: `svok` and `envdir` are in
 * every build of the runtime; `nosuchprogram` never is. 0.77 drops envdir,
 * so a version switch must take away envdir's links.
 */
export const COMMANDS_076 = ['svok', 'envdir', 'nosuchprogram'];
export const COMMANDS_077 = ['svok'];
if (!COMMANDS_076.slice(0, 2).every((c) => existsSync(path.join(DIST_RUNTIME, `${c}.js`)))) throw new Error('build first: dist/runtime lacks svok.js or envdir.js');

export interface ManageFixture {
  root: string;
  recipes: string;
  /** Base URL of the loopback mirror serving the tarballs. */
  mirror: string;
  /** Runs the built djbpkg on this root with this recipe dir and mirror. */
  run(args: string[], env?: Record<string, string | undefined>): Promise<RunResult>;
  /** Installs `spec` (default daemontools, i.e. the newest recipe version) and fails the test on a non-zero exit. */
  install(spec?: string): Promise<void>;
  pkg(version: string): string;
}

/**
 * A temp root with an inittab (so install adds its fenced line there, and
 * never signals init since ROOT is not /), a recipe with 0.76 (and 0.77 when
 * asked) pinning tarballs the test built, and a loopback mirror serving them.
 */
export async function manageFixture(opts: { with077?: boolean; commands076?: string[] } = {}): Promise<ManageFixture> {
  const base = tempDir('djbpkg-manage-');
  const root = path.join(base, 'root');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/inittab'), 'id:2:initdefault:\n');
  const recipes = path.join(base, 'recipes');
  mkdirSync(path.join(base, 'patches'), { recursive: true });
  writeFileSync(path.join(base, 'patches', 'errno.patch'), ERRNO_PATCH);
  const routes: Record<string, Route> = {};
  const versions: Record<string, unknown> = {};
  const wanted: [string, string[]][] = [['0.76', opts.commands076 ?? COMMANDS_076]];
  if (opts.with077) wanted.push(['0.77', COMMANDS_077]);
  for (const [v, commands] of wanted) {
    const body = rawTarGz(daemontoolsMembers({ commands, top: `admin/daemontools-${v}` }));
    const d = digestsOf(body);
    routes[`/daemontools-${v}.tar.gz`] = { kind: 'file', body };
    versions[v] = {
      distfile: `daemontools-${v}.tar.gz`,
      urls: [`http://127.0.0.1:9/unreachable/daemontools-${v}.tar.gz`],
      size: d.size,
      md5: d.md5,
      sha256: d.sha256,
      build: 'slashpackage',
      patches: { errno: { file: '../patches/errno.patch', default: true } },
    };
  }
  const srv = await startServer(routes);
  writeRecipe(recipes, { name: 'daemontools', category: 'admin', versions });
  const run = (args: string[], env?: Record<string, string | undefined>): Promise<RunResult> =>
    djbpkg([...args, '--root', root, '--recipes', recipes, '--mirror', srv.url], { env });
  return {
    root,
    recipes,
    mirror: srv.url,
    run,
    async install(spec = 'daemontools') {
      const r = await run(['install', spec]);
      if (r.code !== 0) throw new Error(`install ${spec} exited ${r.code}: ${r.stderr}`);
    },
    pkg: (v) => path.join(root, 'package/admin', `daemontools-${v}`),
  };
}

export function jsonOf(r: RunResult): Record<string, any> {
  try {
    return JSON.parse(r.stdout) as Record<string, any>;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}
