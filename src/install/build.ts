import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DjbError, ioError } from '../core/errors.js';

/** The build kinds djbpkg knows; only `ts` is implemented. */
export const BUILDS = ['ts', 'native'] as const;
export type BuildKind = (typeof BUILDS)[number];

/** dist/bin of this djbpkg: where the runtime's program entries are (`<name>.js`). */
export function runtimeBinDir(): string {
  return fileURLToPath(new URL('../bin/', import.meta.url));
}

export interface CommandSplit {
  /** Names from package/commands that the runtime has, in package/commands order. */
  present: string[];
  /** Names the runtime does not have yet: not installed, reported. */
  missing: string[];
}

/** Which of `commands` the TypeScript runtime in `binDir` provides. */
export function splitCommands(commands: readonly string[], binDir = runtimeBinDir()): CommandSplit {
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
  /** Absolute path of the program's JS entry. */
  program: string;
}

/** Where the wrapper for `name` points. The one place to change when the runtime is bundled into the package. */
export function wrapperTarget(name: string, binDir = runtimeBinDir(), node = process.execPath): WrapperTarget {
  return { node, program: path.join(binDir, `${name}.js`) };
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
    `DJBPKG_PACKAGE_DIR=$pkg exec "$node" ${shQuote(target.program)} "$@"`,
    '',
  ].join('\n');
}

/**
 * build `ts`: writes `tree/command/<name>` (mode 0755) for every present command,
 * each as `<name>{new}` then renamed.
 */
export async function buildTs(tree: string, pkgLabel: string, present: readonly string[], binDir = runtimeBinDir()): Promise<void> {
  const commandDir = path.join(tree, 'command');
  try {
    await mkdir(commandDir, { recursive: true });
    await chmod(commandDir, 0o755);
    for (const name of present) {
      const file = path.join(commandDir, name);
      const tmp = `${file}{new}`;
      await writeFile(tmp, wrapperScript(pkgLabel, name, wrapperTarget(name, binDir)), { mode: 0o755 });
      await chmod(tmp, 0o755);
      await rename(tmp, file);
    }
  } catch (err) {
    throw ioError(`unable to write commands into ${commandDir}`, err);
  }
}

export function checkBuild(kind: string): BuildKind {
  if (kind === 'ts') return 'ts';
  if (kind === 'native') {
    throw new DjbError('E_USAGE', '--build native is not supported yet', { hint: 'use --build ts (the default)' });
  }
  throw new DjbError('E_USAGE', `unknown build ${kind}`, { hint: 'use --build ts' });
}
