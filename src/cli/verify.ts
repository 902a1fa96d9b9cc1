import { isFile } from '../core/fs.js';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { DjbError } from '../core/errors.js';
import { PACKAGE_VERB, djbpkgCommand } from '../core/hint.js';
import type { Io } from '../core/io.js';
import { mismatchError, verifyFile } from '../install/verify.js';
import type { VerifyReport } from '../install/verify.js';
import { findInstalled, verifyInstalled } from '../installed/manifest.js';
import { linksInto } from '../installed/remove.js';
import { listRecipes, resolveAllVersions, resolveRecipe } from '../recipe/index.js';
import type { ResolvedRecipe } from '../recipe/index.js';
import { distfilesDir, extraRecipeDirs } from './fetch-options.js';
import { md5OnlyWarning } from '../install/verify.js';
import type { GlobalArgs } from './fetch-options.js';
import { json, warn } from './render.js';

interface VerifyArgs extends GlobalArgs {
  target: string;
}

/** What `djbpkg verify` was asked about. */
export interface VerifyTarget {
  /** `package`: NAME[@RANGE] given, the cached distfile is checked; `file`: a path given. */
  kind: 'package' | 'file';
  recipe: ResolvedRecipe;
  /** The distfile to hash (absolute). */
  file: string;
}

/** The outcome of one verify step: text for people, a value for --json, and whether it passed. */
export interface VerifyOutcome {
  ok: boolean;
  lines: string[];
  /** Under this step's key in the --json document. */
  value: unknown;
  /** The one-line reason when !ok. */
  failure?: string;
}

/**
 * One check of `djbpkg verify`. The steps run in order and all must pass;
 * a step returns undefined when it does not apply to the target (e.g. a
 * manifest check for a package that is not installed).
 */
export interface VerifyStep {
  key: string;
  run(target: VerifyTarget, io: Io, args: GlobalArgs): Promise<VerifyOutcome | undefined>;
}

export const distfileStep: VerifyStep = {
  key: 'distfile',
  async run(target, io) {
    if (target.kind === 'package' && !(await isFile(target.file))) {
      return {
        ok: false,
        lines: [`${target.recipe.distfile}: not in the download cache (${target.file})`],
        value: { path: target.file, ok: false, missing: true },
        failure: `${target.file} is missing; run ${djbpkgCommand(io.root, ['fetch', `${target.recipe.name}@${target.recipe.version}`], PACKAGE_VERB)}`,
      };
    }
    const report = await verifyFile(target.file, target.recipe);
    const failure = report.ok
      ? undefined
      : mismatchError(report.path, report.checks, target.recipe.recipeFile, false).message;
    return { ok: report.ok, lines: reportLines(report), value: report, failure };
  },
};

/** For an installed package: every installed file against the manifest written at install time. */
export const installedStep: VerifyStep = {
  key: 'installed',
  async run(target, io) {
    if (target.kind !== 'package') return undefined;
    const dir = await findInstalled(io.root, target.recipe.name);
    if (!dir) {
      // Not installed: links into it must not be left dangling either.
      const catDir = io.root.categoryDir(target.recipe.category);
      const into = await linksInto(io.root, [path.join(catDir, target.recipe.name), path.join(catDir, `${target.recipe.name}-${target.recipe.version}`)]);
      const shown = io.root.display(io.root.packageDir);
      if (into.length) {
        return {
          ok: false,
          lines: [`${target.recipe.name} is not installed under ${shown}, yet links point into it:`, ...into.map((l) => `  dangling ${io.root.display(l.path)}`)],
          value: { installed: false, dangling: into.map((l) => l.path) },
          failure: `${target.recipe.name} is not installed under ${shown} but ${into.length} link${into.length === 1 ? '' : 's'} point into it (${io.root.display(into[0]!.path)}...)`,
        };
      }
      return { ok: true, lines: [`${target.recipe.name} is not installed under ${shown}: only the cached distfile was checked`], value: { installed: false } };
    }
    const { changed, missing } = await verifyInstalled(io.root, target.recipe.name);
    const shown = io.root.display(dir);
    const ok = changed.length === 0 && missing.length === 0;
    const lines = ok
      ? [`${shown}: every installed file matches its manifest`]
      : [`${shown}: installed files differ from the manifest`, ...changed.map((p) => `  changed  ${p}`), ...missing.map((p) => `  missing  ${p}`)];
    const failure = ok
      ? undefined
      : `installed files of ${shown} differ from the manifest: ${[...changed.map((p) => `${p} changed`), ...missing.map((p) => `${p} missing`)].join(', ')}`;
    return { ok, lines, value: { packageDir: dir, changed, missing }, failure };
  },
};

/** Every verify step, in order. */
export const VERIFY_STEPS: VerifyStep[] = [distfileStep, installedStep];

/** `djbpkg verify NAME[@RANGE] | FILE`. */
export function verifyCommand(io: Io): CommandModule<GlobalArgs, VerifyArgs> {
  return {
    command: 'verify <target>',
    describe: 'check the cached distfile of NAME[@RANGE], or FILE, against the recipe (size, MD5, SHA-256)',
    builder: (y) => y.positional('target', { type: 'string', describe: 'NAME[@RANGE] or a path to a distfile', demandOption: true }),
    handler: async (args) => {
      const target = await verifyTarget(args.target, args, io);
      if (target.recipe.sha256 === undefined) warn(io.stderr, md5OnlyWarning(target.recipe.name, target.recipe.version));
      const doc: Record<string, unknown> = { name: target.recipe.name, version: target.recipe.version, ok: true };
      const failures: string[] = [];
      for (const step of VERIFY_STEPS) {
        const outcome = await step.run(target, io, args);
        if (!outcome) continue;
        doc[step.key] = outcome.value;
        if (!outcome.ok) {
          doc.ok = false;
          failures.push(outcome.failure ?? `${step.key} check failed`);
        }
        if (!args.json) for (const line of outcome.lines) io.stdout.write(line + '\n');
      }
      if (args.json) json(io.stdout, doc);
      if (failures.length > 0) throw new DjbError('E_CHECKSUM', failures.join('; '));
      if (!args.json) io.stdout.write(doc.installed && (doc.installed as { installed?: boolean }).installed === false ? 'distfile ok; nothing installed to check\n' : 'ok\n');
    },
  };
}

async function verifyTarget(arg: string, args: GlobalArgs, io: Io): Promise<VerifyTarget> {
  const extra = extraRecipeDirs(args);
  if (arg.includes('/') || (await isFile(arg))) {
    const file = path.resolve(arg);
    return { kind: 'file', recipe: await recipeForDistfile(path.basename(file), extra), file };
  }
  const recipe = await resolveRecipe(arg, extra);
  return { kind: 'package', recipe, file: path.join(distfilesDir(args, io), recipe.distfile) };
}

/** The first recipe version (search order, newest first) whose distfile is named `base`. */
async function recipeForDistfile(base: string, extra: string[]): Promise<ResolvedRecipe> {
  for (const summary of await listRecipes(extra)) {
    if (summary.error) continue;
    for (const r of await resolveAllVersions(summary.name, extra)) if (r.distfile === base) return r;
  }
  throw new DjbError('E_UNKNOWN_PACKAGE', `no recipe has a distfile named ${base}`, {
    hint: 'verify FILE matches FILE to a recipe by its file name; use djbpkg info NAME to see distfile names',
  });
}

function reportLines(r: VerifyReport): string[] {
  const lines = [`${r.distfile} (${r.name} ${r.version}): ${r.path}`];
  for (const c of r.checks) {
    const expected = c.expected === undefined ? '(not pinned)' : String(c.expected);
    const verdict = c.expected === undefined ? '' : c.ok ? '  ok' : '  MISMATCH';
    lines.push(`  ${c.label.padEnd(8)} expected ${expected}`);
    lines.push(`  ${''.padEnd(8)} actual   ${String(c.actual)}${verdict}`);
  }
  return lines;
}

