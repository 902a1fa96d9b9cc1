import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT, run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { ok, parse, useDistribution } from '../support/service.js';

/**
 * Installing djbpkg itself as docs/installing-djbpkg.md says: `npm pack` the checkout,
 * `npm install -g` the tarball into a prefix (dependencies from npm's cache
 * when it has them), then use that djbpkg, and nothing of the checkout, to
 * install daemontools from a loopback mirror.
 */

const NPM = ['/usr/bin/npm', '/usr/local/bin/npm', path.join(path.dirname(process.execPath), 'npm')].find((p) => existsSync(p));
const version = (JSON.parse(readFileSync(path.join(PROJECT, 'package.json'), 'utf8')) as { version: string }).version;

describe.skipIf(!NPM)(`djbpkg installed from its npm pack tarball${NPM ? '' : ' (skipped: npm not found)'}`, { timeout: 300_000 }, () => {
  const dist = useDistribution();

  it('npm install -g --prefix runs djbpkg --version, links its man page, and installs daemontools that runs without the checkout', async () => {
    const dir = tempDir('djbpkg-npm-');
    // npm may have to reach the registry (a newer release in a dependency's range than the cache holds):
    // it keeps the machine's CA and proxy settings, without which a TLS-intercepting proxy makes it retry for minutes.
    const passed = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
    const npmEnv: Record<string, string> = { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` };
    for (const k of passed) if (process.env[k] !== undefined) npmEnv[k] = process.env[k]!;
    // The suite built dist/ already; --ignore-scripts keeps `prepare` from rebuilding it under running tests.
    const packed = JSON.parse(ok(await run(NPM!, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: PROJECT, env: npmEnv })).stdout) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    for (const f of ['dist/bin/djbpkg.js', 'dist/runtime/svscan.js', 'man/djbpkg.8', 'man/svc.8', 'recipes/daemontools.json', 'package.json']) expect(files).toContain(f);
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('src/'))).toBe(false);
    const tarball = path.join(dir, packed[0]!.filename);

    const prefix = path.join(dir, 'prefix');
    ok(await run(NPM!, ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: dir, env: npmEnv, timeoutMs: 240_000 }));
    const bin = path.join(prefix, 'bin', 'djbpkg');
    const v = ok(await run(bin, ['--version'], { cwd: dir }));
    expect(v.stdout.trim()).toBe(version);
    expect(existsSync(path.join(prefix, 'share/man/man8/djbpkg.8'))).toBe(true);

    const root = path.join(dir, 'root');
    const r = parse<{ changed: boolean; packageDir: string; commands: string[] }>(
      await run(bin, ['install', 'daemontools', '--root', root, '--recipes', dist.recipes, '--mirror', dist.server.url, '--boot', 'none', '--json'], { cwd: dir }),
    );
    expect(r.changed).toBe(true);
    expect(r.commands).toContain('svok');
    // The installed runtime came from the global package, not from this checkout.
    const wrapper = readFileSync(path.join(root, 'package/admin/daemontools-0.76/command/svok'), 'utf8');
    expect(wrapper).not.toContain(PROJECT);
    const svok = await run(path.join(root, 'command/svok'), [path.join(root, 'service')], { cwd: dir });
    expect(svok.code).toBe(100);
    expect(svok.stderr).toBe('');
    expect(existsSync(path.join(root, 'usr/local/share/man/man8/svscan.8'))).toBe(true);
  });
});
