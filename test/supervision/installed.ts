import path from 'node:path';
import { installDaemontools } from '../support/installed.js';
import { tempDir } from '../support/tmp.js';

/**
 * A root with daemontools installed the way users get it, for one test
 * (removed after it): tests run the bundles behind ROOT/command, not dist/bin.
 */
export async function installedRoot(): Promise<{ root: string; command: (name: string) => string }> {
  const root = await installDaemontools(tempDir('djbpkg-sv-'));
  return { root, command: (name) => path.join(root, 'command', name) };
}
