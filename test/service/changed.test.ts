import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { track } from '../support/procs.js';
import { djbpkg } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { parse, useDistribution } from '../support/service.js';

/** Every verb that can change something says whether it did (`changed` in --json), as Ansible's changed_when needs. */

describe('"changed" in --json', { timeout: 180_000 }, () => {
  const dist = useDistribution();

  it('init, install, boot, boot --stop and remove report a change once, then none', async () => {
    const root = path.join(tempDir('djbpkg-changed-'), 'root');
    const j = async (...args: string[]) => parse<{ changed: boolean; pid?: number; readproctitlePid?: number }>(await djbpkg(['--root', root, '--json', ...args]));
    const src = ['--recipes', dist.recipes, '--mirror', dist.server.url];
    // fetch's JSON fields are fixed (docs/fetching.md): "source" is "cache" exactly when nothing was downloaded.
    expect((await j('fetch', 'daemontools', ...src)) as unknown).toMatchObject({ source: `${dist.server.url}/daemontools-0.76.tar.gz` });
    expect((await j('fetch', 'daemontools', ...src)) as unknown).toMatchObject({ source: 'cache' });
    expect((await j('init')).changed).toBe(true);
    expect((await j('init')).changed).toBe(false);
    expect((await j('install', 'daemontools', '--boot', 'none', ...src)).changed).toBe(true);
    expect((await j('install', 'daemontools', '--boot', 'none', ...src)).changed).toBe(false);
    const boot = await j('boot');
    track(boot.pid!);
    track(boot.readproctitlePid!);
    expect(boot.changed).toBe(true);
    expect((await j('boot')).changed).toBe(false);
    expect((await j('boot', '--stop')).changed).toBe(true);
    expect((await j('boot', '--stop')).changed).toBe(false);
    expect((await j('remove', 'daemontools', '--dry-run')).changed).toBe(false);
    expect((await j('remove', 'daemontools')).changed).toBe(true);
  });
});
