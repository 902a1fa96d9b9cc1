import path from 'node:path';
import { startServer } from '../support/http.js';
import { writeRecipe, versionOf } from '../support/recipe.js';
import { djbpkg } from '../support/run.js';
import { buildTarball } from '../support/tarball.js';
import { tempDir } from '../support/tmp.js';

const COMMANDS = [
  'svscan', 'svscanboot', 'supervise', 'svc', 'svok', 'svstat', 'fghack', 'pgrphack', 'readproctitle',
  'multilog', 'tai64n', 'tai64nlocal', 'softlimit', 'setuidgid', 'envuidgid', 'envdir', 'setlock',
];

/**
 * A root with daemontools installed the way users get it (`djbpkg install`
 * from a loopback mirror, a synthetic tarball, `ts` build, no boot hook):
 * tests run the bundles behind ROOT/command, not dist/bin.
 */
export async function installedRoot(): Promise<{ root: string; command: (name: string) => string }> {
  const dist = tempDir('djbpkg-sv-dist-');
  const tb = await buildTarball(dist, 'daemontools-0.76.tar.gz', {
    'admin/daemontools-0.76/package/commands': COMMANDS.join('\n') + '\n',
    'admin/daemontools-0.76/package/install': { content: '#!/bin/sh -e\npackage/compile\n', mode: 0o755 },
    'admin/daemontools-0.76/package/README': 'daemontools 0.76 (test tree)\n',
    'admin/daemontools-0.76/src/svc.c': 'int main(void) { return 0; }\n',
  });
  const recipes = path.join(dist, 'recipes');
  writeRecipe(recipes, { name: 'daemontools', versions: { '0.76': versionOf(tb, ['http://127.0.0.1:9/unused.tar.gz']) } });
  const server = await startServer({ '/daemontools-0.76.tar.gz': { kind: 'file', body: tb.bytes } });
  const root = path.join(tempDir('djbpkg-sv-root-'), 'root');
  try {
    const r = await djbpkg(['install', 'daemontools', '--root', root, '--mirror', server.url, '--recipes', recipes, '--boot', 'none', '--no-start']);
    if (r.code !== 0) throw new Error(`install failed (${r.code}): ${r.stderr}`);
  } finally {
    await server.close();
  }
  return { root, command: (name) => path.join(root, 'command', name) };
}
