import { spawn, spawnSync } from 'node:child_process';
import { chmod, copyFile, lchown, mkdir, readFile, readdir, rename, stat, symlink, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import { inside } from '../core/root.js';
import { isFile } from '../core/fs.js';
import type { Root } from '../core/root.js';
import { checkMake, chooseFlags, detectCompiler } from './compiler.js';
import type { Compiler, CompilerChoice } from './compiler.js';

/**
 * build `native`: djb's C compiled by the system compiler, in the staging
 * tree, the way upstream does it. A slashpackage tree follows package/compile
 * (compile/ linked to src/, make there, command/ gets package/commands); a
 * classic flat tree gets conf-home set to the version-less package link and
 * `make`, then the recipe's programs are copied into command/ (what upstream's
 * `make setup` would put into conf-home/bin, which links to command/). Nothing
 * is run against the real root: `make setup`'s installer writes absolute paths.
 */

/** Where a native build records what it did (compiler, flags, user, sysdeps). */
export const BUILD_RECORD = 'package/build';

export type BuildType = 'slashpackage' | 'classic';

export interface NativeBuildInput {
  root: Root;
  category: string;
  name: string;
  version: string;
  type: BuildType;
  /** The staged tree (build directory's top). */
  tree: string;
  /** The staging directory that holds it (made traversable for the build user, then closed again). */
  stagingDir: string;
  /** The programs that go into command/. */
  commands: readonly string[];
  /** Known-good sysdep lines by platform key. */
  baseline: Readonly<Record<string, readonly string[]>>;
  env: Readonly<Record<string, string | undefined>>;
  /** Test seam: the build user to drop to when root (default `nobody`). */
  buildUser?: string;
  /** The runtime's setuidgid program (a bundle run by this node), used to drop privileges. */
  setuidgid: string;
}

export interface SysdepLine {
  name: string;
  present: boolean;
}

export interface NativeBuildResult {
  compiler: Compiler;
  choice: CompilerChoice;
  make: string;
  /** Who ran make: a user name, or `root` with the reason it could not drop. */
  user: string;
  /** Relative to the tree. */
  sysdepsFile: string;
  sysdeps: SysdepLine[];
  baselineKey: string | undefined;
  notes: string[];
}

/** `/* sysdep: +flock *\/` lines in order. */
export function parseSysdepLines(text: string): SysdepLine[] {
  const out: SysdepLine[] = [];
  for (const m of text.matchAll(/\/\* sysdep: ([+-])([A-Za-z0-9_]+) \*\//g)) out.push({ name: m[2]!, present: m[1] === '+' });
  return out;
}

/** The baseline entry for this platform: `PLATFORM-ARCH` first, then `PLATFORM`. */
export function baselineFor(baseline: Readonly<Record<string, readonly string[]>>, platform = process.platform, arch = process.arch): { key: string; lines: readonly string[] } | undefined {
  for (const key of [`${platform}-${arch}`, platform]) {
    const lines = baseline[key];
    if (lines) return { key, lines };
  }
  return undefined;
}

/**
 * Differences between what the build's probes found and the baseline: a
 * feature whose sign differs or that the build did not probe. Empty: matches.
 */
export function compareSysdeps(found: readonly SysdepLine[], baseline: readonly string[]): string[] {
  const have = new Map(found.map((f) => [f.name, f.present]));
  const out: string[] = [];
  for (const b of baseline) {
    const want = b.startsWith('+');
    const name = b.slice(1);
    const got = have.get(name);
    if (got === undefined) out.push(`${name} not probed (baseline ${b})`);
    else if (got !== want) out.push(`${got ? '+' : '-'}${name} where the baseline has ${b}`);
  }
  return out;
}

async function setFirstLine(file: string, line: string): Promise<void> {
  let rest = '';
  try {
    const old = await readFile(file, 'utf8');
    const nl = old.indexOf('\n');
    rest = nl < 0 ? '' : old.slice(nl + 1);
  } catch {
    rest = '';
  }
  try {
    await writeFile(file, `${line}\n${rest}`, { mode: 0o644 });
  } catch (err) {
    throw ioError(`unable to write ${file}`, err);
  }
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await lchown(dir, uid, gid);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await chownTree(p, uid, gid);
    else await lchown(p, uid, gid);
  }
}

function idOf(user: string, flag: '-u' | '-g', env: Readonly<Record<string, string | undefined>>): number | undefined {
  const r = spawnSync('id', [flag, user], { encoding: 'utf8', env: { PATH: env.PATH ?? '/usr/bin:/bin' } });
  const n = Number(r.stdout?.trim());
  return r.status === 0 && Number.isInteger(n) ? n : undefined;
}

interface BuildUser {
  uid: number;
  gid: number;
  name: string;
}

/**
 * When djbpkg runs as root, the compile runs as an unprivileged user in a
 * staging tree chowned to it, so a Makefile can write nothing but that tree.
 * Undefined (with the reason) when it cannot: not root, no such user, or a
 * parent directory the user cannot search.
 */
async function dropTo(input: NativeBuildInput, buildDir: string): Promise<{ user?: BuildUser; why: string }> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { why: 'not running as root' };
  const name = input.buildUser ?? 'nobody';
  const uid = idOf(name, '-u', input.env);
  const gid = idOf(name, '-g', input.env);
  if (uid === undefined || gid === undefined) return { why: `no user ${name} to build as` };
  try {
    await chmod(input.stagingDir, 0o755);
    await chownTree(input.stagingDir, uid, gid);
  } catch (err) {
    throw ioError(`unable to hand ${input.stagingDir} to ${name} for the build`, err);
  }
  const probe = spawnSync('/bin/sh', ['-c', 'test -w "$1" && test -x "$1"', 'sh', buildDir], { uid, gid, env: { PATH: input.env.PATH ?? '/usr/bin:/bin' } });
  if (probe.status !== 0) {
    await chownTree(input.stagingDir, 0, 0);
    await chmod(input.stagingDir, 0o700);
    return { why: `${name} cannot reach ${input.root.display(buildDir)} (a parent directory is not searchable by others)` };
  }
  return { user: { uid, gid, name }, why: '' };
}

/**
 * Runs make in `dir`; resolves with its output, rejects with E_BUILD naming
 * the last line. The drop goes through setuidgid rather than spawn's uid/gid:
 * those leave no supplementary group, and 0.76's chkshsgr probe then fails
 * (getgroups returns 0, setgroups is refused) and stops the build.
 */
function runMake(dir: string, user: BuildUser | undefined, input: NativeBuildInput, shown: string): Promise<string> {
  // The staging tree goes on failure; make's output is kept where the admin can read it.
  const logFile = path.join(input.root.stateDir, `${input.name}-${input.version}.make.log`);
  return new Promise((resolve, reject) => {
    const [cmd, args] = user ? [process.execPath, [input.setuidgid, user.name, 'make']] : ['make', []];
    const child = spawn(cmd, args, {
      cwd: dir,
      env: { PATH: input.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (b: Buffer): void => {
      chunks.push(b);
      size += b.length;
      while (size > 1 << 20 && chunks.length > 1) size -= chunks.shift()!.length;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new DjbError('E_BUILD', `unable to run make in ${shown}: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      const out = Buffer.concat(chunks).toString('utf8');
      if (code === 0) return resolve(out);
      const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
      // The compiler's first error says most; else make's own `***` line; else whatever came last.
      const last = lines.find((l) => /: (fatal )?error: /.test(l)) ?? [...lines].reverse().find((l) => l.includes('***')) ?? lines.at(-1) ?? '(no output)';
      const saved = mkdir(path.dirname(logFile), { recursive: true }).then(() => writeFile(logFile, out, { mode: 0o644 })).then(
        () => `nothing was installed; make's whole output is in ${input.root.display(logFile)}`,
        () => 'nothing was installed',
      );
      void saved.then((hint) => reject(new DjbError('E_BUILD', `make in ${shown} failed (${signal ? `signal ${signal}` : `exit ${String(code)}`}): ${last}`, { hint })));
    });
  });
}

async function copyProgram(from: string, to: string): Promise<void> {
  const st = await stat(from);
  await copyFile(from, `${to}{new}`);
  await chmod(`${to}{new}`, st.mode & 0o7777);
  await rename(`${to}{new}`, to);
}

/** Builds the staged tree; see the module comment. */
export async function buildNative(input: NativeBuildInput): Promise<NativeBuildResult> {
  const compiler = detectCompiler(input.env);
  const make = checkMake(input.env);
  const choice = chooseFlags(compiler);
  const { tree, root } = input;
  const slash = input.type === 'slashpackage';
  const srcDir = slash ? path.join(tree, 'src') : tree;
  const buildDir = slash ? path.join(tree, 'compile') : tree;
  const notes: string[] = [`compiler: ${compiler.versionLine || compiler.command} (${choice.why})`, `conf-cc: ${choice.cc}`];
  await setFirstLine(path.join(srcDir, 'conf-cc'), choice.cc);
  await setFirstLine(path.join(srcDir, 'conf-ld'), choice.ld);
  const home = path.join(root.categoryDir(input.category), input.name);
  if (!slash) {
    await setFirstLine(path.join(tree, 'conf-home'), root.inRoot(home));
    notes.push(`conf-home: ${root.inRoot(home)} (the version-less link, so paths written by the programs survive upgrades)`);
  } else {
    try {
      await mkdir(buildDir, { recursive: true });
      await writeFile(path.join(buildDir, 'home'), `${root.inRoot(path.join(root.categoryDir(input.category), `${input.name}-${input.version}`))}\n`, { mode: 0o644 });
      // Relative, unlike package/compile's absolute link: the tree is built in staging and then renamed.
      await symlink('../src', path.join(buildDir, 'src'));
      for (const n of (await readdir(srcDir)).sort()) await symlink(`src/${n}`, path.join(buildDir, n));
    } catch (err) {
      throw ioError(`unable to link ${srcDir} into ${buildDir}`, err);
    }
  }
  const drop = await dropTo(input, buildDir);
  const user = drop.user ? drop.user.name : process.getuid?.() === 0 ? `root (${drop.why})` : userInfo().username;
  notes.push(`compiling as ${user}`);
  try {
    await runMake(buildDir, drop.user, input, root.display(buildDir));
  } finally {
    if (drop.user) {
      await chownTree(input.stagingDir, 0, 0);
      await chmod(input.stagingDir, 0o700);
    }
  }
  const commandDir = path.join(tree, 'command');
  try {
    await mkdir(commandDir, { recursive: true });
    await chmod(commandDir, 0o755);
    for (const c of input.commands) await copyProgram(inside(buildDir, c), path.join(commandDir, c));
    if (!slash) {
      await symlink('command', path.join(tree, 'bin'));
      // As a slashpackage tree has it: doctor and the admin read the program list here.
      await mkdir(path.join(tree, 'package'), { recursive: true });
      await writeFile(path.join(tree, 'package', 'commands'), input.commands.map((c) => `${c}\n`).join(''), { mode: 0o644 });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DjbError('E_BUILD', `the build did not make every program it should: ${(err as Error).message}`);
    }
    throw ioError(`unable to copy the programs into ${commandDir}`, err);
  }
  notes.push(`copied ${input.commands.length} programs into command/`);
  const { file: sysdepsFile, lines: sysdeps } = await collectSysdeps(tree, buildDir, slash);
  const base = baselineFor(input.baseline);
  if (base) {
    const diff = compareSysdeps(sysdeps, base.lines);
    if (diff.length) {
      throw new DjbError('E_BUILD', `the build's sysdeps differ from the known-good ${base.key} baseline: ${diff.join(', ')}`, {
        hint: 'a probe that flips when the compiler gets stricter means a slower or broken fallback; nothing was installed',
      });
    }
    notes.push(`sysdeps match the ${base.key} baseline (${base.lines.join(' ')})`);
  } else if (sysdeps.length) notes.push(`note: no sysdeps baseline for ${process.platform}-${process.arch}; not checked`);
  const result: NativeBuildResult = { compiler, choice, make, user, sysdepsFile, sysdeps, baselineKey: base?.key, notes };
  await writeBuildRecord(tree, input.type, result);
  return result;
}

/**
 * compile/sysdeps as the slashpackage Makefile writes it; for a classic tree
 * (whose Makefile has no sysdeps target) package/sysdeps made the same way:
 * systype, the compile and load scripts, then every sysdep line of the
 * generated headers.
 */
async function collectSysdeps(tree: string, buildDir: string, slash: boolean): Promise<{ file: string; lines: SysdepLine[] }> {
  const made = path.join(buildDir, 'sysdeps');
  if (slash) {
    try {
      return { file: path.relative(tree, made), lines: parseSysdepLines(await readFile(made, 'utf8')) };
    } catch {
      /* a Makefile without the sysdeps target: collected below */
    }
  }
  const parts: string[] = [];
  for (const f of ['systype', 'compile', 'load']) {
    try {
      parts.push(await readFile(path.join(buildDir, f), 'utf8'));
    } catch {
      /* not made by this Makefile */
    }
  }
  const lines: string[] = [];
  for (const n of (await readdir(buildDir)).sort()) {
    if (!n.endsWith('.h')) continue;
    const p = path.join(buildDir, n);
    if (!(await isFile(p))) continue;
    for (const l of (await readFile(p, 'utf8')).split('\n')) if (/\/\* sysdep: [+-]/.test(l)) lines.push(l);
  }
  parts.push(lines.join('\n') + (lines.length ? '\n' : ''));
  const file = slash ? made : path.join(tree, 'package', 'sysdeps');
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, parts.join(''), { mode: 0o644 });
  } catch (err) {
    throw ioError(`unable to write ${file}`, err);
  }
  return { file: path.relative(tree, file), lines: parseSysdepLines(lines.join('\n')) };
}

/** The facts recorded in package/build, one `key: value` a line. */
export interface BuildRecord {
  build: string;
  [key: string]: string;
}

async function writeBuildRecord(tree: string, type: BuildType, r: NativeBuildResult): Promise<void> {
  const rec: BuildRecord = {
    build: 'native',
    type,
    compiler: `${r.compiler.family} ${r.compiler.version}`,
    'compiler-version': r.compiler.versionLine,
    'conf-cc': r.choice.cc,
    'conf-ld': r.choice.ld,
    flags: r.choice.extra.length ? r.choice.extra.join(' ') : '(upstream)',
    why: r.choice.why,
    make: r.make,
    user: r.user,
    sysdeps: r.sysdepsFile,
    baseline: r.baselineKey ?? '(none for this platform)',
  };
  const file = path.join(tree, BUILD_RECORD);
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, Object.entries(rec).map(([k, v]) => `${k}: ${v.replace(/\n/g, ' ')}\n`).join(''), { mode: 0o644 });
  } catch (err) {
    throw ioError(`unable to write ${file}`, err);
  }
}

/** Reads PACKAGE/package/build; undefined when absent (a `ts` build or an older install). */
export async function readBuildRecord(packageDir: string): Promise<BuildRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(packageDir, BUILD_RECORD), 'utf8');
  } catch {
    return undefined;
  }
  const rec: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) rec[line.slice(0, i)] = line.slice(i + 2);
  }
  return rec.build ? (rec as BuildRecord) : undefined;
}
