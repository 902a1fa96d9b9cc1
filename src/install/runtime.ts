import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DjbError } from '../core/errors.js';

/**
 * The bundled runtime that a `ts` build copies into PACKAGE/runtime/: one
 * esbuild bundle per program (dist/runtime/<prog>.js) plus koffi and the one
 * native binary package for this platform, so that the installed commands
 * keep working after the checkout or npm cache that installed them is gone.
 */

export const RUNTIME_DIR = 'runtime';

/** dist/runtime of the djbpkg that is running. */
export function bundleDir(): string {
  return fileURLToPath(new URL('../runtime/', import.meta.url));
}

/** Names of the programs the runtime has (bundled by the build). */
export function runtimePrograms(): string[] {
  const list = path.join(bundleDir(), 'programs.json');
  try {
    return JSON.parse(readFileSync(list, 'utf8')) as string[];
  } catch (err) {
    throw new DjbError('E_BUILD', `unable to read ${list}: the runtime is not built`, {
      cause: err,
      hint: 'run npm run build in the djbpkg checkout',
    });
  }
}

/** koffi's own directory and its native package for this platform. */
function koffiSources(): { koffi: string; native: string; nativeName: string; version: string } {
  const require = createRequire(import.meta.url);
  const koffi = path.dirname(require.resolve('koffi'));
  const version = (JSON.parse(readFileSync(path.join(koffi, 'package.json'), 'utf8')) as { version: string }).version;
  const nativeName = `@koromix/koffi-${process.platform}-${process.arch}`;
  const native = path.join(koffi, '..', nativeName);
  if (!existsSync(native)) {
    throw new DjbError('E_BUILD', `koffi has no native binary package ${nativeName} at ${native}`, {
      hint: 'reinstall djbpkg with npm ci on this platform',
    });
  }
  return { koffi, native, nativeName, version };
}

export function koffiVersion(): string {
  return koffiSources().version;
}

/** Files of koffi that load at run time: its JS and package.json, not its C sources or headers. */
function koffiRuntimeFile(rel: string): boolean {
  if (rel === 'package.json' || rel === 'LICENSE.txt') return true;
  if (rel.startsWith('vendor/') || rel.startsWith('lib/') || rel.startsWith('doc/')) return false;
  return /\.(c?js)$/.test(rel) && rel !== 'cnoke.cjs';
}

function copyTree(from: string, to: string, keep: (rel: string) => boolean, copied: string[], rel = ''): void {
  for (const entry of readdirSync(path.join(from, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      copyTree(from, to, keep, copied, r);
    } else if (entry.isFile() && keep(r)) {
      const dest = path.join(to, r);
      mkdirSync(path.dirname(dest), { recursive: true });
      copyFileSync(path.join(from, r), dest);
      copied.push(dest);
    }
  }
}

/**
 * Copies the runtime into `packageDir/runtime` (the caller stages packageDir,
 * so this never writes into a live package). Returns every file written.
 */
export function copyRuntime(packageDir: string, programs: readonly string[]): string[] {
  const dest = path.join(packageDir, RUNTIME_DIR);
  const copied: string[] = [];
  const src = bundleDir();
  mkdirSync(dest, { recursive: true });
  for (const name of ['package.json', ...programs.map((p) => `${p}.js`)]) {
    copyFileSync(path.join(src, name), path.join(dest, name));
    copied.push(path.join(dest, name));
  }
  const k = koffiSources();
  copyTree(k.koffi, path.join(dest, 'node_modules', 'koffi'), koffiRuntimeFile, copied);
  copyTree(k.native, path.join(dest, 'node_modules', k.nativeName), (rel) => !rel.endsWith('.md'), copied);
  return copied;
}

/** True when `file` is a regular, non-empty file (a bundle that is really there). */
export function isBundle(file: string): boolean {
  try {
    const st = statSync(file);
    return st.isFile() && st.size > 0;
  } catch {
    return false;
  }
}
