import { spawnSync } from 'node:child_process';
import { DjbError } from '../core/errors.js';

/**
 * The system C compiler as a native build uses it: which one, which version,
 * and the flags that compile djb's 1990s C (implicit declarations, K&R
 * definitions, `int f();` prototypes) unchanged on it.
 */

export type CompilerFamily = 'gcc' | 'clang' | 'unknown';

export interface Compiler {
  /** The command as written into conf-cc / conf-ld (one word, found on PATH). */
  command: string;
  family: CompilerFamily;
  /** Dotted version, e.g. `12.2.0`; `unknown` when --version did not say. */
  version: string;
  major: number;
  /** First line of `cc --version`, recorded as the build's evidence. */
  versionLine: string;
}

export interface CompilerChoice {
  /** conf-cc's first line. */
  cc: string;
  /** conf-ld's first line. */
  ld: string;
  /** Flags added to upstream's -O2 for this compiler, and why. */
  extra: string[];
  why: string;
}

/** Debian packages that provide what a native build runs. */
export const DEBIAN_PACKAGES = { cc: 'gcc', make: 'make', both: 'build-essential' } as const;

/** Reads `cc --version` output into family and version. Pure. */
export function parseCompilerVersion(command: string, text: string): Compiler {
  const versionLine = text.split('\n')[0]?.trim() ?? '';
  let family: CompilerFamily = 'unknown';
  let version = 'unknown';
  const clang = /clang version (\d+(?:\.\d+)*)/.exec(text);
  if (clang) {
    family = 'clang';
    version = clang[1]!;
  } else if (/\bgcc\b|\bGCC\b|Free Software Foundation/.test(text)) {
    family = 'gcc';
    const m = /\)\s+(\d+(?:\.\d+)+)/.exec(versionLine) ?? /(\d+\.\d+(?:\.\d+)?)/.exec(versionLine);
    if (m) version = m[1]!;
  }
  const major = version === 'unknown' ? 0 : Number(version.split('.')[0]);
  return { command, family, version, major, versionLine };
}

/**
 * Upstream's conf-cc is `gcc -O2` plus warnings; djbpkg keeps -O2 and adds
 * only what a stricter compiler needs. GCC 14 made implicit function
 * declarations, implicit int and incompatible pointer types errors, GCC 15
 * defaults to C23 (where `int f();` means no arguments); clang 16 did the
 * same for implicit declarations and int-conversion. `-std=gnu89` restores
 * the dialect the code was written in, the -Wno-error flags keep the rest
 * warnings. Older compilers get upstream's flags alone.
 */
export function chooseFlags(c: Compiler): CompilerChoice {
  const strictGcc = c.family === 'gcc' && c.major >= 14;
  const strictClang = c.family === 'clang' && c.major >= 16;
  let extra: string[] = [];
  let why: string;
  if (strictGcc) {
    extra = ['-std=gnu89', '-Wno-error=implicit-function-declaration', '-Wno-error=implicit-int', '-Wno-error=incompatible-pointer-types', '-Wno-error=int-conversion'];
    why = `GCC ${c.major} rejects implicit declarations, implicit int and K&R prototypes by default`;
  } else if (strictClang) {
    extra = ['-std=gnu89', '-Wno-error=implicit-function-declaration', '-Wno-error=implicit-int', '-Wno-error=int-conversion', '-Wno-error=incompatible-function-pointer-types'];
    why = `clang ${c.major} rejects implicit declarations and int-conversion by default`;
  } else if (c.family === 'unknown') {
    why = 'compiler family not recognised; upstream flags';
  } else {
    why = `${c.family} ${c.version} accepts the sources with upstream flags`;
  }
  return { cc: [c.command, '-O2', ...extra].join(' '), ld: `${c.command} -s`, extra, why };
}

function missingTool(tool: string, pkg: string): DjbError {
  return new DjbError('E_BUILD', `${tool} not found on PATH; a native build needs it: install Debian's ${pkg} (or ${DEBIAN_PACKAGES.both})`);
}

/** Finds the C compiler (env CC, else `cc`) and asks it its version. */
export function detectCompiler(env: Readonly<Record<string, string | undefined>>): Compiler {
  const command = env.CC && /^[A-Za-z0-9_./+-]+$/.test(env.CC) ? env.CC : 'cc';
  const r = spawnSync(command, ['--version'], { encoding: 'utf8', env: { PATH: env.PATH ?? '/usr/bin:/bin' }, timeout: 30_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw missingTool(`C compiler ${command}`, DEBIAN_PACKAGES.cc);
  if (r.error || r.status !== 0) {
    throw new DjbError('E_BUILD', `unable to run ${command} --version: ${r.error ? r.error.message : `exit ${String(r.status)}`}`);
  }
  return parseCompilerVersion(command, `${r.stdout}\n${r.stderr}`);
}

/** Fails with the package to install when `make` is not on PATH. */
export function checkMake(env: Readonly<Record<string, string | undefined>>): string {
  const r = spawnSync('make', ['--version'], { encoding: 'utf8', env: { PATH: env.PATH ?? '/usr/bin:/bin' }, timeout: 30_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw missingTool('make', DEBIAN_PACKAGES.make);
  return (r.stdout ?? '').split('\n')[0]?.trim() || 'make';
}
