import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What a daemontools program is handed by its bin/ entry. Programs keep 0.76's
 * texts and exit codes; they may use fds 0-2 directly where 0.76 does.
 */
export interface ProgramIo {
  /** argv[0] as the user typed it (for messages that use the basename). */
  argv0: string;
  /** The environment the program runs with (DJBPKG_PACKAGE_DIR already removed). */
  env: NodeJS.ProcessEnv;
  /** The installed package directory this program belongs to, if known. */
  packageDir: string | undefined;
  stdout(data: string | Uint8Array): void;
  stderr(text: string): void;
}

/** Environment variable the installed command wrappers use to name their package. */
export const PACKAGE_DIR_ENV = 'DJBPKG_PACKAGE_DIR';

/** Patch sets recorded as applied in PACKAGE/package/patches (one name a line). */
export function installedPatchSets(packageDir: string | undefined): Set<string> {
  if (!packageDir) return new Set();
  try {
    const text = readFileSync(path.join(packageDir, 'package', 'patches'), 'utf8');
    return new Set(text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
  } catch {
    return new Set();
  }
}
