import { mkdirSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DjbError } from '../../src/core/errors.js';
import { Root } from '../../src/core/root.js';
import { applyLink, conflictError, findConflicts, undoLink, wantedLinks } from '../../src/install/layout.js';
import type { LinkUndo } from '../../src/install/layout.js';
import { lockRoot } from '../../src/installed/lock.js';
import { undoMade } from '../../src/install/init.js';
import type { Made } from '../../src/install/init.js';
import { tempDir } from '../support/tmp.js';
import { treeListing } from '../support/tree.js';

const PKG = { category: 'admin', name: 'daemontools', version: '0.76' };

function fakePackage(root: Root, cmds: string[]): string {
  const dir = path.join(root.packageDir, 'admin/daemontools-0.76/command');
  mkdirSync(dir, { recursive: true });
  for (const c of cmds) writeFileSync(path.join(dir, c), '#!/bin/sh\n', { mode: 0o755 });
  return path.dirname(dir);
}

describe('layout links', () => {
  it('makes relative links that resolve to the package commands, and re-running changes nothing', async () => {
    const root = new Root(tempDir());
    const pkg = fakePackage(root, ['svc', 'svok']);
    const links = wantedLinks(root, PKG, ['svc', 'svok']);
    for (const l of links) await applyLink(l);
    expect(readlinkSync(root.join('package/admin/daemontools'))).toBe('daemontools-0.76');
    expect(readlinkSync(root.join('command/svc'))).toBe('../package/admin/daemontools/command/svc');
    expect(readlinkSync(root.join('usr/local/bin/svc'))).toBe('../../../command/svc');
    for (const c of ['svc', 'svok']) {
      expect(realpathSync(root.join('command', c))).toBe(realpathSync(path.join(pkg, 'command', c)));
      expect(realpathSync(root.join('usr/local/bin', c))).toBe(realpathSync(path.join(pkg, 'command', c)));
    }
    for (const l of links) expect(await applyLink(l)).toBeUndefined();
  });

  it('treats upstream-style absolute links to daemontools as ours, and a foreign file or link as a conflict', async () => {
    const root = new Root(tempDir());
    fakePackage(root, ['svc', 'svok', 'svstat']);
    mkdirSync(root.commandDir);
    symlinkSync('/package/admin/daemontools/command/svc', root.join('command/svc'));
    writeFileSync(root.join('command/svok'), 'someone else\n');
    symlinkSync('/opt/other/svstat', root.join('command/svstat'));
    const conflicts = await findConflicts(wantedLinks(root, PKG, ['svc', 'svok', 'svstat']));
    expect(conflicts.map((c) => root.inRoot(c.path))).toEqual(['/command/svok', '/command/svstat']);
    const err = conflictError(root, conflicts);
    expect(err).toBeInstanceOf(DjbError);
    expect(err.code).toBe('E_CONFLICT');
    expect(err.exitCode).toBe(100);
    expect(err.message).toContain('/command/svok (a file)');
    expect(err.message).toContain('/command/svstat (a link to /opt/other/svstat)');
  });

  it('undo restores every replaced object, including a forced-over foreign file', async () => {
    const root = new Root(tempDir());
    fakePackage(root, ['svc', 'svok']);
    mkdirSync(root.commandDir);
    symlinkSync('/package/admin/daemontools/command/svc', root.join('command/svc'));
    writeFileSync(root.join('command/svok'), 'someone else\n');
    const before = treeListing(root.dir);
    const undos: LinkUndo[] = [];
    const made: Made[] = [];
    for (const l of wantedLinks(root, PKG, ['svc', 'svok'])) {
      const u = await applyLink(l, made);
      if (u) undos.push(u);
    }
    expect(readlinkSync(root.join('command/svok'))).toBe('../package/admin/daemontools/command/svok');
    for (const u of undos.reverse()) await undoLink(u);
    await undoMade(made);
    expect(treeListing(root.dir)).toEqual(before);
  });
});

describe('root lock', () => {
  it('a second holder waits, then fails E_LOCKED (exit 111); after release it succeeds', async () => {
    const root = new Root(tempDir());
    const first = await lockRoot(root, 0);
    const t0 = Date.now();
    const err = await lockRoot(root, 300).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(err).toBeInstanceOf(DjbError);
    expect((err as DjbError).code).toBe('E_LOCKED');
    expect((err as DjbError).exitCode).toBe(111);
    first.release();
    const again = await lockRoot(root, 0);
    again.release();
  });
});
