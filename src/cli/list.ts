import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import { listInstalled } from '../installed/installed.js';
import type { InstalledPackage } from '../installed/installed.js';
import type { GlobalArgs } from './fetch-options.js';
import { json } from './render.js';

/** The installed state of one package as `list --json` and `info --json` give it. */
export function installedJson(p: InstalledPackage): Record<string, unknown> {
  return {
    category: p.category,
    name: p.name,
    current: p.current,
    packageDir: p.versions.find((v) => v.current)?.dir ?? null,
    versions: p.versions.map((v) => ({ version: v.version, current: v.current, packageDir: v.dir, patches: v.patches, build: v.build, requires: v.requires })),
  };
}

/** One line per installed version: `CATEGORY/NAME-VERSION  current  build ts  patches a,b[  requires x,y]`. */
export function installedLines(p: InstalledPackage): string[] {
  if (p.versions.length === 0) return [`${p.category}/${p.name}  (a ${p.name} link but no installed version)`];
  return p.versions.map((v) => {
    const patches = v.patches.length ? v.patches.join(',') : '(none)';
    const requires = v.requires.length ? `  requires ${v.requires.join(',')}` : '';
    return `${p.category}/${p.name}-${v.version}  ${v.current ? 'current' : 'old    '}  build ${v.build}  patches ${patches}${requires}`;
  });
}

/** `djbpkg list`: what is installed under ROOT/package. */
export function listCommand(io: Io): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'list',
    describe: 'list installed packages: every version, which is current, patch sets, build',
    handler: async (args) => {
      const pkgs = await listInstalled(io.root);
      if (args.json) {
        json(io.stdout, { root: io.root.dir, packages: pkgs.map(installedJson) });
        return;
      }
      if (pkgs.length === 0) {
        io.stderr.write(`djbpkg: nothing is installed under ${io.root.display(io.root.packageDir)}\n`);
        return;
      }
      io.stdout.write(pkgs.flatMap(installedLines).join('\n') + '\n');
    },
  };
}
