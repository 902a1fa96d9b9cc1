import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import { bundleDir, copyRuntime, RUNTIME_DIR } from './runtime.js';

/** The build kinds djbpkg knows: `ts` (wrappers of the TypeScript runtime) and `native` (djb's C, compiled here). */
export const BUILDS = ['ts', 'native'] as const;
export type BuildKind = (typeof BUILDS)[number];

export interface CommandSplit {
  /** Names from package/commands that the runtime has, in package/commands order. */
  present: string[];
  /** Names the runtime does not have yet: not installed, reported. */
  missing: string[];
}

/** Which of `commands` the TypeScript runtime in `binDir` provides. */
export function splitCommands(commands: readonly string[], binDir = bundleDir()): CommandSplit {
  const present: string[] = [];
  const missing: string[] = [];
  for (const name of commands) (existsSync(path.join(binDir, `${name}.js`)) ? present : missing).push(name);
  return { present, missing };
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface WrapperTarget {
  /** Absolute path of the node binary found at install time. */
  node: string;
  /** The program's bundle, relative to the package directory. */
  program: string;
}

/** Where the wrapper for `name` points: the bundle copied into the package itself. */
export function wrapperTarget(name: string, node = process.execPath): WrapperTarget {
  return { node, program: `${RUNTIME_DIR}/${name}.js` };
}

/**
 * The `/bin/sh` wrapper that runs the runtime's program `name`. It finds its
 * package directory from its own resolved path, so it works through the
 * /command and /usr/local/bin links and under any root.
 */
export function wrapperScript(pkgLabel: string, name: string, target: WrapperTarget): string {
  return [
    '#!/bin/sh',
    `# djbpkg: ${pkgLabel} ${name} (TypeScript runtime)`,
    'here=$(readlink -f -- "$0") || exit 111',
    'pkg=${here%/command/*}',
    `node=${shQuote(target.node)}`,
    `[ -x "$node" ] || { echo "${name}: fatal: node not found at $node; reinstall with djbpkg install" >&2; exit 111; }`,
    `DJBPKG_PACKAGE_DIR=$pkg exec "$node" "$pkg/"${shQuote(target.program)} "$@"`,
    '',
  ].join('\n');
}

/**
 * build `ts`: copies the bundled runtime into `tree/runtime/` and writes
 * `tree/command/<name>` (mode 0755) for every present command, each as
 * `<name>{new}` then renamed. The package then needs nothing from the
 * checkout that installed it, only the node recorded in the wrappers.
 */
export async function buildTs(tree: string, pkgLabel: string, present: readonly string[], binDir = bundleDir()): Promise<void> {
  try {
    copyRuntime(tree, present, binDir);
  } catch (err) {
    throw ioError(`unable to copy the runtime into ${path.join(tree, RUNTIME_DIR)}`, err);
  }
  const commandDir = path.join(tree, 'command');
  try {
    await mkdir(commandDir, { recursive: true });
    await chmod(commandDir, 0o755);
    for (const name of present) {
      const file = path.join(commandDir, name);
      const tmp = `${file}{new}`;
      await writeFile(tmp, wrapperScript(pkgLabel, name, wrapperTarget(name)), { mode: 0o755 });
      await chmod(tmp, 0o755);
      await rename(tmp, file);
    }
  } catch (err) {
    throw ioError(`unable to write commands into ${commandDir}`, err);
  }
}

/**
 * The build to run: `kind` when the recipe offers it, else the recipe's
 * first (its default). Unknown or unoffered builds are usage errors.
 */
export function checkBuild(kind: string | undefined, offered: readonly string[] = BUILDS, what = 'this package'): BuildKind {
  const usable = offered.filter((b): b is BuildKind => (BUILDS as readonly string[]).includes(b));
  if (kind === undefined) {
    const first = usable[0];
    if (!first) throw new DjbError('E_RECIPE', `${what} offers no build djbpkg knows (${offered.join(', ') || 'none'})`);
    return first;
  }
  if (!(BUILDS as readonly string[]).includes(kind)) throw new DjbError('E_USAGE', `unknown build ${kind}`, { hint: `use --build ${BUILDS.join(' or --build ')}` });
  if (!usable.includes(kind as BuildKind)) {
    throw new DjbError('E_USAGE', `${what} has no ${kind} build`, { hint: `its builds: ${usable.join(', ')}${kind === 'ts' ? ' (the TypeScript runtime only replaces daemontools programs)' : ''}` });
  }
  return kind as BuildKind;
}
