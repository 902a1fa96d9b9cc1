import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import type { Root } from '../core/root.js';
import { assertInsideRoot } from '../core/fs.js';
import * as fsx from '../posix/fsx.js';
import { Txn } from '../installed/txn.js';
import type { TxnRecord } from '../installed/txn.js';
import { applyBoot, chooseBoot, djbpkgHooks, ensureServiceDir, planBoot, undoBoot } from '../boot/boot.js';
import type { BootMode, BootPlan, BootUndo } from '../boot/boot.js';
import { CHOICES_FILE, formatChoices } from '../installed/installed.js';
import { buildTs, splitCommands } from './build.js';
import type { CommandSplit } from './build.js';
import { buildNative } from './build-native.js';
import { checkMake, chooseFlags, detectCompiler } from './compiler.js';
import { bundleDir } from './runtime.js';
import type { NativeBuildResult } from './build-native.js';
import { REQUIRES_FILE, formatRequires } from './deps.js';
import { extractArchive, scanArchive } from './extract.js';
import type { ArchiveScan, Staged } from './extract.js';
import { applyInitSteps, planPackageHome, undoMade, mkdirRecorded } from './init.js';
import type { Made } from './init.js';
import {
  applyLink,
  commitLink,
  conflictError,
  findConflicts,
  inspectLink,
  installTree,
  undoLink,
  undoTree,
  versionDirName,
  wantedLinks,
} from './layout.js';
import type { LinkUndo, TreeSwap, WantedLink } from './layout.js';
import { copyManPages, manLinks, manPageNames } from './man.js';
import { MANIFEST_FILE, formatManifest, parseManifest, scanTree, verifyManifest } from '../installed/manifest.js';
import type { ManifestEntry } from '../installed/manifest.js';
import { choosePatches } from './plan.js';
import { splitVersionDir } from '../installed/installed.js';
import { linksInto } from '../installed/remove.js';
import type { InstallDeps, InstallOptions, InstallReport, RecipeForInstall } from './plan.js';

/** What a stage found and did. */
export interface StageReport {
  /** True when the stage changed the root (staging does not count). */
  changed: boolean;
  notes: string[];
}

/**
 * One step of a pipeline. `run` is idempotent and reports what it found;
 * `undo` reverts a (possibly partial) run; `commit` drops what was kept for
 * undo once every stage succeeded; `plan` says what run would do and touches nothing.
 */
export interface Stage<C> {
  name: string;
  run(ctx: C): Promise<StageReport>;
  undo?(ctx: C): Promise<void>;
  commit?(ctx: C): Promise<void>;
  plan(ctx: C): Promise<string[]>;
}

export interface PipelineResult {
  changed: boolean;
  reports: { stage: string; report: StageReport }[];
}

/**
 * Runs the stages in order. On a failure every stage begun (the failing one
 * included) is undone in reverse order, then the error is rethrown. With
 * `dryRun` only the plans run; each plan line is printed as `would …` (`note: …` lines as they are).
 */
export async function runPipeline<C>(
  stages: readonly Stage<C>[],
  ctx: C,
  opts: { dryRun: boolean; log: (stage: string, line: string) => void; txn?: Txn },
): Promise<PipelineResult> {
  const reports: PipelineResult['reports'] = [];
  if (opts.dryRun) {
    for (const s of stages) for (const line of await s.plan(ctx)) opts.log(s.name, line.startsWith('note: ') ? line : `would ${line}`);
    return { changed: false, reports };
  }
  const begun: Stage<C>[] = [];
  try {
    for (const s of stages) {
      begun.push(s);
      let report: StageReport;
      try {
        report = await s.run(ctx);
      } catch (err) {
        throw ioError(`${s.name} stage failed`, err);
      }
      for (const line of report.notes) opts.log(s.name, line);
      reports.push({ stage: s.name, report });
    }
    try {
      await opts.txn?.commit();
    } catch (err) {
      throw ioError('commit failed', err);
    }
  } catch (err) {
    for (const s of begun.reverse()) {
      try {
        await s.undo?.(ctx);
      } catch (undoErr) {
        opts.log(s.name, `warning: undo failed: ${(undoErr as Error).message}`);
      }
    }
    // The journal's rollback catches whatever a stage's own undo could not
    // (it is idempotent); if it fails too, the journal stays for the next run.
    try {
      await opts.txn?.rollback();
    } catch (rbErr) {
      opts.log('rollback', `warning: ${(rbErr as Error).message}; the next djbpkg command on this root finishes it`);
    }
    throw err;
  }
  for (const s of stages) {
    try {
      await s.commit?.(ctx);
    } catch (err) {
      opts.log(s.name, `warning: cleanup failed: ${(err as Error).message}`);
    }
  }
  try {
    await opts.txn?.end();
  } catch (err) {
    opts.log('commit', `warning: ${(err as Error).message}; the next djbpkg command on this root finishes it`);
  }
  return { changed: reports.some((r) => r.report.changed), reports };
}

/** Everything the install stages share; stages fill it in order. */
export interface InstallContext {
  root: Root;
  recipe: RecipeForInstall;
  opts: InstallOptions;
  deps: InstallDeps;
  env: Readonly<Record<string, string | undefined>>;
  /** Runtime program entries (dist/bin); default: this djbpkg's. */
  binDir: string | undefined;
  sets: { name: string; file: string }[];
  distfile?: string;
  scan?: ArchiveScan;
  split?: CommandSplit;
  links?: WantedLink[];
  /** Links of another installed version's commands that this version lacks: removed when the links switch. */
  staleLinks?: { path: string; target: string }[];
  made: Made[];
  staged?: Staged;
  patchesApplied: string[];
  identical: boolean;
  treeSwap?: TreeSwap;
  linkUndos: LinkUndo[];
  serviceMade: boolean;
  bootPlan?: BootPlan;
  bootUndo: BootUndo;
  /** The journal of this install (absent for --dry-run). */
  txn?: Txn;
  /** The boot method --boot resolves to on this root, recorded with the package. */
  bootMode: BootMode;
  native?: NativeBuildResult;
}

/** The tarball's one top directory: CATEGORY/NAME-VERSION, or a classic recipe's flat `top`. */
export function topDir(recipe: RecipeForInstall): string {
  return recipe.top ?? `${recipe.category}/${versionDirName(recipe)}`;
}

function isClassic(recipe: RecipeForInstall): boolean {
  return recipe.build === 'classic';
}

export function finalDir(ctx: InstallContext): string {
  return path.join(ctx.root.categoryDir(ctx.recipe.category), versionDirName(ctx.recipe));
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new DjbError('E_INTERNAL', `install stage order broken: ${what} missing`);
  return v;
}

async function digest(file: string, algo: string): Promise<string> {
  const h = createHash(algo);
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function inspect(ctx: InstallContext): Promise<string[]> {
  const distfile = need(ctx.distfile, 'distfile');
  const scan = await scanArchive(distfile, topDir(ctx.recipe));
  const commands = isClassic(ctx.recipe) ? ctx.recipe.commands : scan.commands;
  if (!commands) throw new DjbError('E_ARCHIVE', `${path.basename(distfile)} has no ${scan.top}/package/commands`);
  ctx.scan = scan;
  ctx.split = ctx.opts.build === 'native' ? { present: [...commands], missing: [] } : splitCommands(commands, ctx.binDir);
  ctx.links = [...wantedLinks(ctx.root, ctx.recipe, ctx.split.present), ...manLinks(ctx.root, ctx.recipe, manPageNames(ctx.split.present))];
  const notes = [`archive is safe to unpack: ${scan.members.length} members under ${scan.top}/`];
  notes.push(`commands: ${ctx.split.present.join(' ') || '(none)'}`);
  if (ctx.split.missing.length) notes.push(`not in the TypeScript runtime yet, not installed: ${ctx.split.missing.join(' ')}`);
  ctx.staleLinks = await staleLinks(ctx);
  if (ctx.staleLinks.length) notes.push(`links of commands this version lacks, to be removed: ${ctx.staleLinks.map((l) => ctx.root.display(l.path)).join(' ')}`);
  const conflicts = await findConflicts(ctx.links);
  if (conflicts.length && !ctx.opts.force) throw conflictError(ctx.root, conflicts);
  for (const c of conflicts) notes.push(`--force: replacing ${ctx.root.display(c.path)} (${c.what})`);
  return notes;
}

/**
 * /command, /usr/local/bin and man8 links into this package (any version, or
 * the NAME link) that the version being installed does not want.
 */
async function staleLinks(ctx: InstallContext): Promise<{ path: string; target: string }[]> {
  const catDir = ctx.root.categoryDir(ctx.recipe.category);
  const names = await readdir(catDir).catch(() => [] as string[]);
  const dirs = [path.join(catDir, ctx.recipe.name), ...names.filter((n) => splitVersionDir(n)?.name === ctx.recipe.name).map((n) => path.join(catDir, n))];
  const keep = new Set(need(ctx.links, 'links').map((l) => l.path));
  return (await linksInto(ctx.root, dirs)).filter((l) => !keep.has(l.path));
}

function rootLinkEntries(ctx: InstallContext): ManifestEntry[] {
  return need(ctx.links, 'links')
    .filter((l) => path.dirname(l.path) !== ctx.root.categoryDir(ctx.recipe.category))
    .map((l) => ({ kind: 'rootlink' as const, path: ctx.root.inRoot(l.path), target: l.target }));
}

/** True when `dir` holds a tree whose manifest text is `text` and which still matches it. */
async function sameInstalled(ctx: InstallContext, dir: string, text: string): Promise<boolean> {
  let old: string;
  try {
    old = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    return false;
  }
  if (old !== text) return false;
  const entries = parseManifest(old, dir).filter((e) => e.kind !== 'rootlink');
  const v = await verifyManifest(ctx.root, dir, entries);
  return v.changed.length === 0 && v.missing.length === 0;
}

/** Only a slashpackage package (daemontools) hooks svscanboot into boot; classic ones (ucspi-tcp, djbdns) run under it. */
function startsSvscan(ctx: InstallContext): boolean {
  return !isClassic(ctx.recipe);
}

/** The install stages, in order, from fetch to boot (docs/design/pipeline.md). */
export const INSTALL_STAGES: readonly Stage<InstallContext>[] = [
  {
    name: 'fetch',
    async run(ctx) {
      const got = await ctx.deps.fetchDistfile(ctx.recipe, {
        distfiles: ctx.opts.distfiles,
        mirrors: ctx.opts.mirrors,
        offline: ctx.opts.offline,
        env: ctx.env,
      });
      ctx.distfile = got.path;
      return { changed: false, notes: [`${ctx.recipe.distfile} verified (${got.source === 'cache' ? 'from the cache' : `from ${got.source}`})`] };
    },
    async plan(ctx) {
      const cached = path.join(ctx.opts.distfiles, ctx.recipe.distfile);
      try {
        const md5 = await digest(cached, 'md5');
        const sha = ctx.recipe.sha256 === undefined ? undefined : await digest(cached, 'sha256');
        if (md5 === ctx.recipe.md5 && (sha === undefined || sha === ctx.recipe.sha256)) {
          ctx.distfile = cached;
          return [`use ${cached} from the cache (digests match)`];
        }
        return [`replace ${cached} (digests do not match the recipe) by a download`];
      } catch {
        const from = [...ctx.opts.mirrors.map((m) => `${m.replace(/\/+$/, '')}/${ctx.recipe.distfile}`), ...ctx.recipe.urls];
        return [ctx.opts.offline ? `fail: ${ctx.recipe.distfile} is not in the cache and --offline is set` : `download ${ctx.recipe.distfile} from ${from.join(' or ')}`];
      }
    },
  },
  {
    name: 'inspect',
    async run(ctx) {
      return { changed: false, notes: await inspect(ctx) };
    },
    async plan(ctx) {
      if (!ctx.distfile) {
        const known = isClassic(ctx.recipe) ? ctx.recipe.commands : undefined;
        if (known) {
          // A classic recipe names its programs, so the links can be planned before the download.
          ctx.split = { present: [...known], missing: [] };
          ctx.links = wantedLinks(ctx.root, ctx.recipe, known);
        }
        return [`check the archive (members, top directory${known ? '' : ', package/commands'}) once downloaded`];
      }
      return (await inspect(ctx)).map((n) => `find ${n}`);
    },
  },
  {
    name: 'package-home',
    async run(ctx) {
      const steps = await planPackageHome(ctx.root);
      await applyInitSteps(steps, ctx.made, ctx.txn);
      await mkdirRecorded(ctx.root.categoryDir(ctx.recipe.category), 0o755, ctx.made, ctx.txn);
      return { changed: ctx.made.length > 0, notes: steps.map((s) => (s.action === 'exists' ? s.detail : `${s.detail}: done`)) };
    },
    async undo(ctx) {
      await undoMade(ctx.made);
    },
    async plan(ctx) {
      return (await planPackageHome(ctx.root)).filter((s) => s.action !== 'exists').map((s) => s.detail);
    },
  },
  {
    name: 'extract',
    async run(ctx) {
      const label = versionDirName(ctx.recipe);
      const catDir = ctx.root.categoryDir(ctx.recipe.category);
      await ctx.txn?.note({ op: 'staging', dir: catDir, label });
      fsx.step('extract', catDir);
      ctx.staged = await extractArchive(need(ctx.distfile, 'distfile'), need(ctx.scan, 'scan'), ctx.root.categoryDir(ctx.recipe.category), label);
      return { changed: false, notes: [`unpacked into ${ctx.root.display(ctx.staged.stagingDir)}`] };
    },
    async undo(ctx) {
      if (ctx.staged) await fsx.rmTree(ctx.staged.stagingDir);
    },
    async commit(ctx) {
      if (ctx.staged) await fsx.rmTree(ctx.staged.stagingDir);
    },
    async plan(ctx) {
      return [`unpack ${ctx.recipe.distfile} into a staging directory in ${ctx.root.display(ctx.root.categoryDir(ctx.recipe.category))}`];
    },
  },
  {
    name: 'patch',
    async run(ctx) {
      const tree = need(ctx.staged, 'staging').tree;
      const notes: string[] = [];
      fsx.step('patch', tree);
      if (ctx.sets.length) {
        const results = await ctx.deps.applyPatchSets(tree, ctx.sets);
        for (const r of results) notes.push(r.status === 'applied' ? `applied ${r.name}` : `${r.name} is already applied in the source; skipped`);
      } else notes.push('no patch sets chosen');
      ctx.patchesApplied = ctx.sets.map((s) => s.name);
      try {
        if (isClassic(ctx.recipe)) await mkdir(path.join(tree, 'package'), { recursive: true });
        await writeFile(path.join(tree, 'package', 'patches'), ctx.patchesApplied.map((n) => n + '\n').join(''), { mode: 0o644 });
        await writeFile(path.join(tree, CHOICES_FILE), formatChoices({ patches: ctx.patchesApplied, build: ctx.opts.build, boot: ctx.bootMode }), { mode: 0o644 });
      } catch (err) {
        throw ioError(`unable to write ${path.join(tree, 'package')}`, err);
      }
      return { changed: false, notes };
    },
    async plan(ctx) {
      return ctx.sets.length ? ctx.sets.map((s) => `apply patch set ${s.name}`) : ['apply no patch sets'];
    },
  },
  {
    name: 'build',
    async run(ctx) {
      const split = need(ctx.split, 'commands');
      fsx.step('build', need(ctx.staged, 'staging').tree);
      if (ctx.opts.build === 'native') {
        const staged = need(ctx.staged, 'staging');
        ctx.native = await buildNative({
          root: ctx.root,
          category: ctx.recipe.category,
          name: ctx.recipe.name,
          version: ctx.recipe.version,
          type: isClassic(ctx.recipe) ? 'classic' : 'slashpackage',
          tree: staged.tree,
          stagingDir: staged.stagingDir,
          commands: split.present,
          baseline: ctx.recipe.sysdeps ?? {},
          env: ctx.env,
          setuidgid: path.join(ctx.binDir ?? bundleDir(), 'setuidgid.js'),
        });
        return { changed: false, notes: ctx.native.notes };
      }
      await buildTs(need(ctx.staged, 'staging').tree, `${ctx.recipe.name} ${ctx.recipe.version}`, split.present, ctx.binDir);
      const notes = [`wrote ${split.present.length} command wrappers for the TypeScript runtime`];
      if (split.missing.length) notes.push(`warning: missing from the runtime, not installed: ${split.missing.join(' ')}`);
      return { changed: false, notes };
    },
    async plan(ctx) {
      if (ctx.opts.build === 'native') {
        const how = isClassic(ctx.recipe) ? `set conf-home to ${ctx.root.display(path.join(ctx.root.categoryDir(ctx.recipe.category), ctx.recipe.name))}, run make in the staged tree` : 'link src/ into compile/ as package/compile does, run make there';
        let tools: string;
        try {
          const c = detectCompiler(ctx.env);
          tools = `note: compiler ${c.versionLine || c.command}; conf-cc would be: ${chooseFlags(c).cc}; ${checkMake(ctx.env)}`;
        } catch (err) {
          tools = `note: the build would fail: ${(err as Error).message}`;
        }
        return [`compile with the system C compiler: ${how}, as an unprivileged user when run as root`, tools, `copy into command/: ${ctx.split?.present.join(' ') ?? 'the programs'}`, 'check the sysdeps the build probed against the known-good baseline'];
      }
      if (!ctx.split) return ['write command wrappers for every runtime program named in package/commands'];
      const lines = [`write command wrappers: ${ctx.split.present.join(' ') || '(none)'}`];
      if (ctx.split.missing.length) lines.push(`leave out (not in the runtime yet): ${ctx.split.missing.join(' ')}`);
      return lines;
    },
  },
  // Manual pages (install/man.ts): copied into the staged tree here, linked by the links stage.
  {
    name: 'man',
    async run(ctx) {
      const names = await copyManPages(need(ctx.staged, 'staging').tree, manPageNames(need(ctx.split, 'commands').present));
      return { changed: false, notes: [names.length ? `copied manual pages ${names.map((n) => `${n}.8`).join(' ')}` : 'no manual pages for these commands'] };
    },
    async plan(ctx) {
      const names = ctx.split ? manPageNames(ctx.split.present) : [];
      return [names.length ? `copy manual pages ${names.map((n) => `${n}.8`).join(' ')} into man/man8 and link them into /usr/local/share/man/man8` : 'copy the manual pages of the commands, if djbpkg has any'];
    },
  },
  {
    name: 'manifest',
    async run(ctx) {
      const tree = need(ctx.staged, 'staging').tree;
      fsx.step('manifest', tree);
      try {
        await writeFile(path.join(tree, REQUIRES_FILE), formatRequires(ctx.recipe.requires ?? []), { mode: 0o644 });
      } catch (err) {
        throw ioError(`unable to write ${path.join(tree, REQUIRES_FILE)}`, err);
      }
      const text = formatManifest([...(await scanTree(tree)), ...rootLinkEntries(ctx)]);
      try {
        await writeFile(path.join(tree, MANIFEST_FILE), text, { mode: 0o644 });
      } catch (err) {
        throw ioError(`unable to write ${path.join(tree, MANIFEST_FILE)}`, err);
      }
      ctx.identical = await sameInstalled(ctx, finalDir(ctx), text);
      return { changed: false, notes: [ctx.identical ? `${ctx.root.display(finalDir(ctx))} is already installed exactly so` : 'recorded every file with its SHA-256'] };
    },
    async plan() {
      return [`record every installed file with its SHA-256 in ${MANIFEST_FILE}`];
    },
  },
  {
    name: 'tree',
    async run(ctx) {
      const dest = finalDir(ctx);
      if (ctx.identical) return { changed: false, notes: [`${ctx.root.display(dest)} unchanged; leaving it alone`] };
      const staged = need(ctx.staged, 'staging');
      ctx.treeSwap = await installTree(staged.tree, dest, ctx.txn);
      return { changed: true, notes: [ctx.treeSwap.previous ? `replaced ${ctx.root.display(dest)} (the old tree is kept until the install succeeds)` : `installed ${ctx.root.display(dest)}`] };
    },
    async undo(ctx) {
      if (ctx.treeSwap) await undoTree(ctx.treeSwap);
    },
    async plan(ctx) {
      return [`move the staged tree to ${ctx.root.display(finalDir(ctx))} (swapping by rename if a different one is there)`];
    },
  },
  {
    name: 'links',
    async run(ctx) {
      const notes: string[] = [];
      const links = need(ctx.links, 'links');
      // One journal write for every link this stage may change.
      const records: TxnRecord[] = [];
      for (const l of links) {
        const s = await inspectLink(l);
        if (s.state === 'absent') records.push({ op: 'link', path: l.path, before: null });
        else if (s.state === 'ours') records.push({ op: 'link', path: l.path, before: s.target });
        else if (s.state === 'foreign') records.push({ op: 'moved', path: l.path, aside: `${l.path}{djbpkg-old}` }, { op: 'link', path: l.path, before: null });
      }
      for (const l of ctx.staleLinks ?? []) records.push({ op: 'link', path: l.path, before: l.target });
      for (const d of new Set(links.map((l) => path.dirname(l.path)))) await mkdirRecorded(d, 0o755, ctx.made, ctx.txn);
      await ctx.txn?.noteAll(records);
      for (const l of links) {
        const u = await applyLink(l, ctx.made);
        if (u) ctx.linkUndos.push(u);
      }
      for (const l of ctx.staleLinks ?? []) {
        try {
          await fsx.unlinkIfPresent(l.path);
        } catch (err) {
          throw ioError(`unable to remove ${l.path}`, err);
        }
        ctx.linkUndos.push({ path: l.path, before: 'link', target: l.target });
      }
      notes.push(ctx.linkUndos.length ? `changed ${ctx.linkUndos.length} link${ctx.linkUndos.length === 1 ? '' : 's'}: ${linksByDir(ctx.root, ctx.linkUndos.map((u) => u.path))}` : 'every link already in place');
      return { changed: ctx.linkUndos.length > 0, notes };
    },
    async undo(ctx) {
      for (const u of [...ctx.linkUndos].reverse()) await undoLink(u);
    },
    async commit(ctx) {
      for (const u of ctx.linkUndos) await commitLink(u);
    },
    async plan(ctx) {
      if (!ctx.links) return ['link /package/CATEGORY/NAME, /command/* and /usr/local/bin/*'];
      const lines: string[] = [];
      for (const l of ctx.links) {
        const s = await inspectLink(l);
        if (s.state !== 'same') lines.push(`link ${ctx.root.display(l.path)} -> ${l.target}`);
      }
      for (const l of ctx.staleLinks ?? []) lines.push(`remove ${ctx.root.display(l.path)} (a command this version lacks)`);
      return lines.length ? lines : ['leave every link as it is (already in place)'];
    },
  },
  {
    name: 'boot',
    async run(ctx) {
      if (!startsSvscan(ctx)) return { changed: false, notes: ['a classic package starts no svscanboot; boot hook and /service left alone'] };
      ctx.serviceMade = await ensureServiceDir(ctx.root, ctx.txn);
      const plan = await planBoot(ctx.root, ctx.opts.boot);
      ctx.bootPlan = plan;
      const notes = [ctx.serviceMade ? `created ${ctx.root.display(ctx.root.serviceDir)}` : `${ctx.root.display(ctx.root.serviceDir)} exists`];
      notes.push(`chose ${plan.choice.mode} (${plan.choice.why})`);
      notes.push(...(await applyBoot(ctx.root, plan, ctx.bootUndo, ctx.txn)));
      const changed = ctx.serviceMade || ctx.bootUndo.files.length > 0 || ctx.bootUndo.links.length > 0 || ctx.bootUndo.dirs.length > 0;
      return { changed, notes };
    },
    async undo(ctx) {
      await undoBoot(ctx.bootUndo);
      if (ctx.serviceMade) await fsx.rmdir(ctx.root.serviceDir).catch(() => {});
    },
    async plan(ctx) {
      if (!startsSvscan(ctx)) return ['leave the boot hook alone (a classic package starts no svscanboot)'];
      const plan = await planBoot(ctx.root, ctx.opts.boot);
      ctx.bootPlan = plan;
      const lines = [`use boot method ${plan.choice.mode} (${plan.choice.why})`];
      for (const h of await djbpkgHooks(ctx.root)) if (h.mode !== plan.choice.mode) lines.push(`move the hook: remove djbpkg's ${h.mode} hook from ${ctx.root.display(h.file)}`);
      if (plan.file) {
        const where = ctx.root.display(plan.file);
        if (plan.status === 'added') lines.push(`add ${plan.line} to ${where}`);
        else if (plan.status === 'updated') lines.push(`correct the djbpkg svscanboot entry in ${where}`);
        else lines.push(`leave ${where} alone (already starts svscanboot${plan.status === 'hand-written' ? ', by hand' : ''})`);
      }
      lines.push(...plan.notes.map((n) => `note: ${n}`));
      return lines;
    },
  },
];

/** Runs (or with dryRun, plans) the whole install; the caller holds the root lock. */
export async function install(
  root: Root,
  recipe: RecipeForInstall,
  opts: InstallOptions,
  deps: InstallDeps,
  extra: { env?: Readonly<Record<string, string | undefined>>; binDir?: string; log?: (stage: string, line: string) => void } = {},
): Promise<InstallReport> {
  const ctx: InstallContext = {
    root,
    recipe,
    opts,
    deps,
    env: extra.env ?? {},
    binDir: extra.binDir,
    sets: choosePatches(recipe, opts.with, opts.without),
    made: [],
    patchesApplied: [],
    identical: false,
    linkUndos: [],
    serviceMade: false,
    bootUndo: { files: [], links: [], dirs: [] },
    bootMode: (await chooseBoot(root, opts.boot)).mode,
  };
  await assertInsideRoot(root, rootDirsWritten(root, opts));
  if (!opts.dryRun) ctx.txn = await Txn.begin(root, 'install', `${recipe.name} ${recipe.version}`);
  const result = await runPipeline(INSTALL_STAGES, ctx, { dryRun: opts.dryRun, log: extra.log ?? (() => {}), txn: ctx.txn });
  return {
    name: recipe.name,
    version: recipe.version,
    packageDir: finalDir(ctx),
    patches: ctx.sets.map((s) => s.name),
    build: opts.build,
    commands: ctx.split?.present ?? [],
    missing: ctx.split?.missing ?? [],
    boot: ctx.bootPlan?.choice.mode ?? opts.boot,
    changed: result.changed,
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(ctx.native
      ? { compiler: { name: ctx.native.compiler.family, version: ctx.native.compiler.version, cc: ctx.native.choice.cc, ld: ctx.native.choice.ld, user: ctx.native.user } }
      : {}),
  };
}

/** The directories of ROOT an install may write in; each must stay inside ROOT. */
export function rootDirsWritten(root: Root, opts?: { distfiles: string }): string[] {
  const dirs = [root.stateDir, root.commandDir, root.usrLocalBin, root.join('usr/local/share/man'), root.serviceDir, root.etcDir, root.systemdSystemDir];
  if (opts && opts.distfiles === root.defaultDistfiles) dirs.push(root.defaultDistfiles);
  return dirs;
}

/** `26 in ROOT/command, 26 in ROOT/usr/local/bin`: how many links changed where (one line, not every path). */
function linksByDir(root: Root, paths: readonly string[]): string {
  const count = new Map<string, number>();
  for (const p of paths) count.set(path.dirname(p), (count.get(path.dirname(p)) ?? 0) + 1);
  return [...count].map(([d, n]) => `${n} in ${root.display(d)}`).join(', ');
}
