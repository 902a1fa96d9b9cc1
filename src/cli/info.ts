import { isFile } from '../core/fs.js';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import { DjbError } from '../core/errors.js';
import { sourcesFor } from '../install/fetch.js';
import { findPackage } from '../installed/installed.js';
import type { InstalledPackage } from '../installed/installed.js';
import { resolveAllVersions, resolveRecipe, splitSpec } from '../recipe/index.js';
import type { ResolvedRecipe } from '../recipe/index.js';
import { distfilesDir, extraRecipeDirs } from './fetch-options.js';
import type { GlobalArgs } from './fetch-options.js';
import { installedJson, installedLines } from './list.js';
import { json } from './render.js';

interface InfoArgs extends GlobalArgs {
  package: string;
}

/** `djbpkg info NAME[@RANGE]`: what the recipe says, per version. */
export function infoCommand(io: Io): CommandModule<GlobalArgs, InfoArgs> {
  return {
    command: 'info <package>',
    describe: 'show a recipe (versions, sources, digests, patch sets, build type) and what of it is installed',
    builder: (y) => y.positional('package', { type: 'string', describe: 'NAME, or NAME@RANGE for the versions matching RANGE', demandOption: true }),
    handler: async (args) => {
      const extra = extraRecipeDirs(args);
      const { name } = splitSpec(args.package);
      const installed = await findPackage(io.root, name);
      let versions: ResolvedRecipe[];
      try {
        versions =
          splitSpec(args.package).range === undefined
            ? await resolveAllVersions(args.package, extra)
            : [await resolveRecipe(args.package, extra)];
      } catch (err) {
        if (!installed || !(err instanceof DjbError) || err.code !== 'E_UNKNOWN_PACKAGE') throw err;
        if (args.json) json(io.stdout, { name, category: installed.category, recipeFile: null, versions: [], installed: installedJson(installed) });
        else io.stdout.write([`${name} (category ${installed.category})`, '  recipe    (none found)', ...installedSection(installed)].join('\n') + '\n');
        return;
      }
      const dist = distfilesDir(args, io);
      const entries = await Promise.all(versions.map((r) => describeVersion(r, args.mirror ?? [], dist)));
      const first = versions[0]!;
      if (args.json) {
        json(io.stdout, {
          name: first.name,
          category: first.category,
          recipeFile: first.recipeFile,
          versions: entries,
          installed: installed ? installedJson(installed) : null,
        });
        return;
      }
      const out: string[] = [
        `${first.name} (category ${first.category})`,
        `  recipe    ${first.recipeFile}`,
        `  versions  ${versions.map((v) => v.version).join(', ')}`,
      ];
      for (const e of entries) {
        out.push('', `${first.name}-${e.version}`);
        out.push(`  build     ${e.build} (builds: ${e.builds.join(', ')}; default ${e.builds[0] ?? '(none)'})`);
        out.push(`  requires  ${e.requires.length ? e.requires.join(', ') : '(nothing)'}`);
        if (e.commands) out.push(`  commands  ${e.commands.join(' ')}`);
        out.push(`  distfile  ${e.distfile}${e.size === null ? '' : ` (${e.size} bytes)`}`);
        out.push(`  cached    ${e.cached ?? 'no'}`);
        out.push(`  MD5       ${e.md5}`);
        out.push(`  SHA-256   ${e.sha256 ?? '(not pinned; MD5 alone is weak)'}`);
        out.push('  sources');
        for (const s of e.sources) out.push(`    ${s}`);
        out.push('  patch sets');
        if (e.patches.length === 0) out.push('    (none)');
        const width = Math.max(0, ...e.patches.map((p) => p.name.length));
        for (const p of e.patches) {
          const what = p.present ? (p.description ?? '(no description)') : `(patch file missing: ${p.file})`;
          out.push(`    ${p.name.padEnd(width)}  ${p.default ? 'on ' : 'off'}  ${what}`);
        }
      }
      out.push('', ...(installed ? installedSection(installed) : ['installed', '  (not installed)']));
      io.stdout.write(out.join('\n') + '\n');
    },
  };
}

function installedSection(p: InstalledPackage): string[] {
  const cur = p.versions.find((v) => v.current);
  return [
    'installed',
    `  current   ${p.current ?? '(none)'}`,
    `  package   ${cur?.dir ?? '(no current version)'}`,
    ...installedLines(p).map((l) => `  ${l}`),
  ];
}

interface VersionInfo {
  version: string;
  build: string;
  builds: string[];
  top: string;
  requires: string[];
  commands: string[] | null;
  distfile: string;
  size: number | null;
  md5: string;
  sha256: string | null;
  /** Mirrors first, then the recipe's URLs: the order fetch tries them. */
  sources: string[];
  /** Path of the cached distfile, or null (not re-verified here). */
  cached: string | null;
  patches: { name: string; file: string; default: boolean; description: string | null; present: boolean }[];
}

async function describeVersion(r: ResolvedRecipe, mirrors: string[], dist: string): Promise<VersionInfo> {
  const cachedPath = path.join(dist, r.distfile);
  return {
    version: r.version,
    build: r.build,
    builds: r.builds,
    top: r.top,
    requires: r.requires,
    commands: r.commands ?? null,
    distfile: r.distfile,
    size: r.size ?? null,
    md5: r.md5,
    sha256: r.sha256 ?? null,
    sources: sourcesFor(r, mirrors),
    cached: (await isFile(cachedPath)) ? cachedPath : null,
    patches: r.patches.map((p) => ({ name: p.name, file: p.file, default: p.default, description: p.description ?? null, present: p.present })),
  };
}

