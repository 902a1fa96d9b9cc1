import { constants } from 'node:fs';
import { access, lstat, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_VERB, djbpkgCommand } from '../core/hint.js';
import { shellQuote } from '../core/root.js';
import type { Root } from '../core/root.js';
import { readJournal, txnDir } from './txn.js';
import { SYSTEMD_UNIT } from '../boot/boot.js';
import { listInstalled } from './installed.js';
import { MANIFEST_FILE, parseManifest } from './manifest.js';
import { PACKAGE_MODE } from '../core/root.js';
import { lexists, reaches } from '../core/fs.js';
import { readBootRecord, runs } from '../boot/start.js';

/**
 * `djbpkg doctor`: read-only checks of a root, each with what is wrong and how
 * to fix it. Nothing here changes the root.
 */

export interface DoctorCheck {
  /** Stable key, e.g. `package-mode`, `links`, `boot-line`. */
  check: string;
  ok: boolean;
  /** One line: what was found. */
  detail: string;
  /** How to fix it, when !ok. */
  fix?: string;
}

export interface DoctorInput {
  root: Root;
  /** PATH of the caller, for the /command-on-PATH check (ROOT=/ only). */
  pathEnv: string | undefined;
}

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

async function packageMode(root: Root): Promise<DoctorCheck> {
  const shown = root.display(root.packageDir);
  try {
    const st = await stat(root.packageDir);
    const mode = st.mode & 0o7777;
    const link = (await lstat(root.packageDir)).isSymbolicLink() ? ' (through a symlink)' : '';
    if (st.isDirectory() && mode === PACKAGE_MODE) return { check: 'package-mode', ok: true, detail: `${shown} is a directory with mode ${mode.toString(8)}${link}` };
    return {
      check: 'package-mode',
      ok: false,
      detail: st.isDirectory() ? `${shown} has mode ${mode.toString(8)}${link}, not ${PACKAGE_MODE.toString(8)}` : `${shown} is not a directory`,
      fix: st.isDirectory() ? `chmod ${PACKAGE_MODE.toString(8)} ${shellQuote(root.packageDir)}` : `move it aside and run ${djbpkgCommand(root, ['init'])}`,
    };
  } catch (err) {
    return { check: 'package-mode', ok: false, detail: `${shown} is missing (${errno(err)})`, fix: `run ${djbpkgCommand(root, ['init'])}, or ${djbpkgCommand(root, ['install', 'daemontools'], PACKAGE_VERB)}` };
  }
}

interface RootLink {
  path: string;
  pkg: string;
}

/** The root links each installed package's current version recorded in its manifest. */
async function recordedLinks(root: Root): Promise<{ links: RootLink[]; unreadable: string[] }> {
  const links: RootLink[] = [];
  const unreadable: string[] = [];
  for (const p of await listInstalled(root)) {
    const cur = p.versions.find((v) => v.current);
    if (!cur) continue;
    const file = path.join(cur.dir, MANIFEST_FILE);
    try {
      for (const e of parseManifest(await readFile(file, 'utf8'), file)) if (e.kind === 'rootlink') links.push({ path: e.path, pkg: p.name });
    } catch {
      unreadable.push(root.display(file));
    }
  }
  return { links, unreadable };
}

async function linksResolve(root: Root): Promise<DoctorCheck> {
  const { links, unreadable } = await recordedLinks(root);
  const broken: string[] = [];
  for (const l of links) {
    try {
      await stat(root.join(l.path));
    } catch {
      broken.push(root.display(root.join(l.path)));
    }
  }
  const pkgs = [...new Set(links.filter((l) => broken.includes(root.display(root.join(l.path)))).map((l) => l.pkg))];
  // Links nobody recorded can dangle too (a package tree gone under its links).
  for (const dir of [root.commandDir, root.usrLocalBin]) {
    for (const n of await readdir(dir).catch(() => [] as string[])) {
      const p = path.join(dir, n);
      const st = await lstat(p).catch(() => undefined);
      if (!st?.isSymbolicLink()) continue;
      if (!(await reaches(p)) && !broken.includes(root.display(p))) broken.push(root.display(p));
    }
  }
  if (broken.length === 0 && unreadable.length === 0) {
    if ((await listInstalled(root)).length === 0) {
      return { check: 'links', ok: false, detail: `nothing is installed under ${root.display(root.packageDir)}: no links to check`, fix: djbpkgCommand(root, ['install', 'daemontools'], PACKAGE_VERB) };
    }
    return { check: 'links', ok: true, detail: `${links.length} /command and /usr/local/bin link${links.length === 1 ? '' : 's'} of installed packages resolve` };
  }
  const parts = [];
  if (broken.length) parts.push(`missing or dangling: ${broken.join(' ')}`);
  if (unreadable.length) parts.push(`unreadable manifest: ${unreadable.join(' ')}`);
  return { check: 'links', ok: false, detail: parts.join('; '), fix: `run ${pkgs.length ? pkgs.map((n) => djbpkgCommand(root, ['install', n], PACKAGE_VERB)).join('; ') : djbpkgCommand(root, ['install'], { ...PACKAGE_VERB, tail: 'NAME' })} again (it puts back missing links)` };
}

async function commandFiles(root: Root): Promise<DoctorCheck> {
  const bad: string[] = [];
  let count = 0;
  const pkgs: string[] = [];
  for (const p of await listInstalled(root)) {
    const cur = p.versions.find((v) => v.current);
    if (!cur) continue;
    const dir = path.join(cur.dir, 'command');
    const names = (await readFile(path.join(cur.dir, 'package', 'commands'), 'utf8').catch(() => '')).split('\n').map((l) => l.trim()).filter(Boolean);
    const present = await readdir(dir).catch(() => [] as string[]);
    for (const n of names.filter((x) => present.includes(x))) {
      count++;
      try {
        await access(path.join(dir, n), constants.X_OK);
        if (!(await stat(path.join(dir, n))).isFile()) throw new Error('not a file');
      } catch {
        bad.push(root.display(path.join(dir, n)));
        if (!pkgs.includes(p.name)) pkgs.push(p.name);
      }
    }
  }
  if (bad.length === 0 && count === 0) {
    return { check: 'commands', ok: false, detail: `no command file of an installed package under ${root.display(root.packageDir)}`, fix: djbpkgCommand(root, ['install', 'daemontools'], PACKAGE_VERB) };
  }
  if (bad.length === 0) return { check: 'commands', ok: true, detail: `${count} command file${count === 1 ? '' : 's'} of installed packages exist and are executable` };
  return { check: 'commands', ok: false, detail: `not an executable file: ${bad.join(' ')}`, fix: `run ${djbpkgCommand(root, ['verify', ...pkgs], PACKAGE_VERB)} to see what changed, then install again` };
}

async function serviceDir(root: Root): Promise<DoctorCheck> {
  const shown = root.display(root.serviceDir);
  const st = await stat(root.serviceDir).catch(() => undefined);
  if (st?.isDirectory()) return { check: 'service', ok: true, detail: `${shown} exists` };
  return { check: 'service', ok: false, detail: st ? `${shown} is not a directory` : `${shown} is missing`, fix: `mkdir ${shellQuote(root.serviceDir)} (or ${djbpkgCommand(root, ['install', 'daemontools'], PACKAGE_VERB)})` };
}

/** Lines that start svscanboot: not comments, naming svscanboot. */
function bootLines(text: string): number {
  return text.split('\n').filter((l) => !l.trim().startsWith('#') && l.includes('svscanboot')).length;
}

async function bootLine(root: Root): Promise<DoctorCheck> {
  const found: string[] = [];
  let total = 0;
  for (const file of [root.inittab, root.rcLocal]) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const n = bootLines(text);
    if (n) found.push(`${root.display(file)} (${n})`);
    total += n;
  }
  const unit = path.join(root.systemdSystemDir, SYSTEMD_UNIT);
  const unitText = await readFile(unit, 'utf8').catch(() => undefined);
  if (unitText !== undefined && unitText.includes('svscanboot')) {
    found.push(root.display(unit));
    total++;
  }
  const chosen = (await listInstalled(root)).flatMap((p) => p.versions.filter((v) => v.current && v.boot !== undefined).map((v) => v.boot));
  const svscanboot = path.join(root.commandDir, 'svscanboot');
  if (total >= 1 && !(await reaches(svscanboot))) {
    return {
      check: 'boot-line',
      ok: false,
      detail: `the boot hook in ${found.join(', ')} starts ${root.display(svscanboot)}, which is missing`,
      fix: `${djbpkgCommand(root, ['install', 'daemontools'], PACKAGE_VERB)}, or take the hook away: ${djbpkgCommand(root, ['remove', 'daemontools', '--purge'])} (or delete the line by hand)`,
    };
  }
  if (total === 1) return { check: 'boot-line', ok: true, detail: `svscanboot is started at boot exactly once: ${found.join('')}` };
  if (total === 0 && chosen.includes('none')) return { check: 'boot-line', ok: true, detail: 'no svscanboot boot hook, as --boot none chose (djbpkg boot starts it by hand)' };
  if (total === 0) {
    return {
      check: 'boot-line',
      ok: false,
      detail: `no svscanboot line in ${root.display(root.inittab)}, ${root.display(root.rcLocal)} or ${root.display(unit)}`,
      fix: `run ${djbpkgCommand(root, ['install', 'daemontools'], PACKAGE_VERB)} again (it adds exactly one), or add the line by hand`,
    };
  }
  return {
    check: 'boot-line',
    ok: false,
    detail: `svscanboot is started ${total} times at boot: ${found.join(', ')}`,
    fix: 'keep exactly one svscanboot line (or unit) and delete the others by hand',
  };
}

/** PIDs of processes named svscan (by argv[0]'s base name or the program a node runs), from /proc. */
async function svscanProcesses(): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(d)) continue;
    const argv = (await readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (argv.slice(0, 2).some((a) => /^svscan(\.js)?$/.test(path.basename(a)))) out.push(Number(d));
  }
  return out;
}

async function svscanRunning(root: Root): Promise<DoctorCheck> {
  const rec = readBootRecord(root);
  if (rec && runs(rec.pid, 'svscan')) return { check: 'svscan', ok: true, detail: `svscan for ${root.dir} runs (pid ${rec.pid}, started by djbpkg boot)` };
  if (root.isSystemRoot) {
    const pids = await svscanProcesses();
    if (pids.length) return { check: 'svscan', ok: true, detail: `svscan runs (pid ${pids.join(' ')})` };
  }
  return {
    check: 'svscan',
    ok: false,
    detail: rec ? `svscan recorded by djbpkg boot (pid ${rec.pid}) is no longer running` : `svscan is not running for ${root.dir}`,
    fix: root.isSystemRoot ? 'run djbpkg boot (or reboot)' : `run ${djbpkgCommand(root, ['boot'])}`,
  };
}

async function commandOnPath(root: Root, pathEnv: string | undefined): Promise<DoctorCheck> {
  if (!root.isSystemRoot) {
    const st = await stat(root.commandDir).catch(() => undefined);
    if (st?.isDirectory()) return { check: 'path', ok: true, detail: `sandbox root: ${root.commandDir} exists (PATH is checked only for --root /)` };
    return { check: 'path', ok: false, detail: `sandbox root: ${root.commandDir} is missing (PATH is checked only for --root /)`, fix: `run ${djbpkgCommand(root, ['install', 'daemontools'], PACKAGE_VERB)}` };
  }
  const dirs = (pathEnv ?? '').split(':');
  if (dirs.includes(root.commandDir)) return { check: 'path', ok: true, detail: `${root.commandDir} is on PATH` };
  return { check: 'path', ok: false, detail: `${root.commandDir} is not on PATH`, fix: `add it, e.g. PATH=${root.commandDir}:$PATH in your shell profile` };
}

const NODE_LINE = /^node='((?:[^']|'\\'')*)'$/m;

async function nodeFound(root: Root): Promise<DoctorCheck> {
  const nodes = new Map<string, string[]>();
  for (const p of await listInstalled(root)) {
    const cur = p.versions.find((v) => v.current);
    if (!cur || cur.build !== 'ts') continue;
    const dir = path.join(cur.dir, 'command');
    for (const n of await readdir(dir).catch(() => [] as string[])) {
      const text = await readFile(path.join(dir, n), 'utf8').catch(() => '');
      const m = NODE_LINE.exec(text);
      if (m) {
        const node = m[1]!.replace(/'\\''/g, "'");
        nodes.set(node, [...(nodes.get(node) ?? []), p.name]);
      }
    }
  }
  if (nodes.size === 0) return { check: 'node', ok: true, detail: 'no installed command records a node path' };
  const missing: string[] = [];
  for (const node of nodes.keys()) {
    try {
      await access(node, constants.X_OK);
    } catch {
      missing.push(node);
    }
  }
  if (missing.length === 0) return { check: 'node', ok: true, detail: `node found at ${[...nodes.keys()].join(' ')}` };
  const pkgs = [...new Set(missing.flatMap((n) => nodes.get(n) ?? []))];
  return {
    check: 'node',
    ok: false,
    detail: `node recorded in the command wrappers is missing: ${missing.join(' ')}`,
    fix: `put node back there, or run ${pkgs.map((n) => djbpkgCommand(root, ['install', n], PACKAGE_VERB)).join('; ')} again with the node you want`,
  };
}

/** What an interrupted transaction leaves: its journal, staging dirs, removal asides, `{new}` names. */
async function leftovers(root: Root): Promise<DoctorCheck> {
  const found: string[] = [];
  if (await lexists(txnDir(root))) {
    try {
      await readJournal(root);
    } catch (err) {
      return {
        check: 'leftovers',
        ok: false,
        detail: `the journal in ${root.display(txnDir(root))} is not replayed: ${err instanceof Error ? err.message : String(err)}`,
        fix: `djbpkg replays only a journal it can have written itself (regular file, owned by the user running djbpkg, mode 0600, in a 0700 directory, every path inside ROOT); if this root came from elsewhere, read the journal, then remove it: rm -r ${shellQuote(txnDir(root))} (see docs/trust.md)`,
      };
    }
    found.push(root.display(txnDir(root)));
  }
  const dirs = [root.commandDir, root.usrLocalBin, root.etcDir, path.join(root.systemdSystemDir, 'multi-user.target.wants'), root.systemdSystemDir, root.packageDir];
  for (const cat of await readdir(root.packageDir).catch(() => [] as string[])) dirs.push(path.join(root.packageDir, cat));
  for (const d of dirs) {
    for (const n of await readdir(d).catch(() => [] as string[])) {
      if (/\.staging-|\.removing$|\{new\}$|\{djbpkg-old\}$/.test(n)) found.push(root.display(path.join(d, n)));
    }
  }
  if (found.length === 0) return { check: 'leftovers', ok: true, detail: 'no interrupted transaction and nothing it left behind' };
  return {
    check: 'leftovers',
    ok: false,
    detail: `left by an interrupted run: ${found.join(' ')}`,
    fix: `any djbpkg command that may write recovers it (e.g. ${djbpkgCommand(root, ['list'])}); remove what remains by hand`,
  };
}

/** Every check, in a fixed order. */
export async function runDoctor(input: DoctorInput): Promise<DoctorCheck[]> {
  const { root } = input;
  return [
    await packageMode(root),
    await linksResolve(root),
    await commandFiles(root),
    await serviceDir(root),
    await bootLine(root),
    await svscanRunning(root),
    await commandOnPath(root, input.pathEnv),
    await nodeFound(root),
    await leftovers(root),
  ];
}
