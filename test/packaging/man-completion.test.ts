import { existsSync, mkdirSync, readdirSync, readlinkSync, realpathSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIST_BIN, PROJECT, djbpkg, run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { RUNTIME_COMMANDS } from '../support/installed.js';
import { installInto, ok, parse, useDistribution } from '../support/service.js';
import { itNeeds } from '../support/needs.js';

/** Man pages (written in roff here) render, install with daemontools, and `djbpkg completion` completes in bash. */

const PAGES = ['djbpkg', ...RUNTIME_COMMANDS];
const MAN = ['/usr/bin/man', '/bin/man'].find((m) => existsSync(m));
const GROFF = ['/usr/bin/groff', '/bin/groff'].find((g) => existsSync(g));
const BASH = ['/bin/bash', '/usr/bin/bash'].find((b) => existsSync(b));

describe('man pages', { timeout: 180_000 }, () => {
  it('man/ holds exactly a page for djbpkg and one for every runtime program', () => {
    expect(readdirSync(path.join(PROJECT, 'man')).sort()).toEqual(PAGES.map((p) => `${p}.8`).sort());
  });

  it.skipIf(!GROFF)(`every page is warning-free roff (groff -man -ww)${GROFF ? '' : ' (skipped: groff is not installed)'}`, async () => {
    for (const p of PAGES) {
      const r = await run(GROFF!, ['-man', '-Tutf8', '-ww', '-z', path.join(PROJECT, 'man', `${p}.8`)]);
      expect(r.stderr, p).toBe('');
      expect(r.code, p).toBe(0);
    }
  });

  it.skipIf(!MAN)(`man -l renders every page${MAN ? '' : ' (skipped: man is not installed; .ci/run installs man-db)'}`, async () => {
    for (const p of PAGES) {
      const r = await run(MAN!, ['-l', path.join(PROJECT, 'man', `${p}.8`)], { env: { MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80' } });
      expect(r.code, p).toBe(0);
      expect(r.stdout, p).toMatch(new RegExp(`^${p.toUpperCase()}\\(8\\)`));
      expect(r.stdout, p).toMatch(/\nNAME\n +\S+ +- /);
      expect(r.stderr, p).toBe('');
    }
  });

  describe('installed with daemontools', () => {
    const dist = useDistribution();

    it('links ROOT/usr/local/share/man/man8/NAME.8 into the package for djbpkg and every command; verify covers them', async () => {
      const root = path.join(tempDir('djbpkg-man-'), 'root');
      await installInto(dist, root);
      const man8 = path.join(root, 'usr/local/share/man/man8');
      expect(readdirSync(man8).sort()).toEqual(PAGES.map((p) => `${p}.8`).sort());
      for (const p of PAGES) {
        expect(readlinkSync(path.join(man8, `${p}.8`))).toBe(`../../../../../package/admin/daemontools/man/man8/${p}.8`);
        expect(realpathSync(path.join(man8, `${p}.8`))).toBe(realpathSync(path.join(root, `package/admin/daemontools-0.76/man/man8/${p}.8`)));
      }
      ok(await djbpkg(['verify', 'daemontools', '--root', root, '--recipes', dist.recipes]));
      const again = parse<{ changed: boolean }>(await djbpkg(['install', 'daemontools', '--root', root, '--recipes', dist.recipes, '--mirror', dist.server.url, '--boot', 'none', '--json']));
      expect(again.changed).toBe(false);
    });

    itNeeds(MAN, 'needs man(1) (Debian man-db)')('man, as an admin runs it with the root\'s man directory on its path, renders an installed page', async () => {
      const root = path.join(tempDir('djbpkg-man-'), 'root');
      await installInto(dist, root);
      const r = await run(MAN!, ['-M', path.join(root, 'usr/local/share/man'), '8', 'svscan'], { env: { MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80' } });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^SVSCAN\(8\)/);
    });
  });
});

describe('djbpkg completion', { timeout: 60_000 }, () => {
  it('prints a bash script', async () => {
    const r = await djbpkg(['completion']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('complete -o bashdefault -o default -F _djbpkg_yargs_completions djbpkg');
    expect(r.stdout).toContain('# Installation: djbpkg completion >> ~/.bashrc');
  });

  it.skipIf(!BASH)(`completes verbs and service verbs in bash${BASH ? '' : ' (skipped: bash is not installed)'}`, async () => {
    const dir = tempDir('djbpkg-completion-');
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'djbpkg'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(DIST_BIN, 'djbpkg.js'))} "$@"\n`);
    chmodSync(path.join(bin, 'djbpkg'), 0o755);
    const script = path.join(dir, 'completion.bash');
    writeFileSync(script, (await djbpkg(['completion'])).stdout);
    const complete = async (words: string[]) => {
      const r = await run(BASH!, [
        '-c',
        `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _djbpkg_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`,
        'bash',
        script,
        ...words,
      ], { env: { PATH: `${bin}:${process.env.PATH}` } });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(await complete(['djbpkg', 'serv'])).toEqual(['service']);
    expect(await complete(['djbpkg', 'service', 'dis'])).toEqual(['disable']);
    expect((await complete(['djbpkg', 'service', ''])).sort()).toEqual(['add', 'disable', 'enable', 'logs', 'remove', 'restart', 'start', 'status', 'stop']);
  });
});
