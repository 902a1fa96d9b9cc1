import { userInfo } from 'node:os';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseFlags, parseCompilerVersion } from '../../src/install/compiler.js';
import { compareSysdeps, parseSysdepLines } from '../../src/install/build-native.js';
import { planInstalls } from '../../src/install/deps.js';
import { startServer } from '../support/http.js';
import { writeRecipe } from '../support/recipe.js';
import { djbpkg, run } from '../support/run.js';
import type { RunResult } from '../support/run.js';
import { buildTarball } from '../support/tarball.js';
import type { TarEntry } from '../support/tarball.js';
import { tempDir } from '../support/tmp.js';

/**
 * Native builds of small trees the test writes: a slashpackage tree built the
 * package/compile way (compile/ linked to src/, make there) and classic flat
 * trees built with make and conf-home, plus requirements between recipes.
 */

const CONF_CC = 'gcc -O2 -Wall\n\nThis will be used to compile .c files.\n';
const CONF_LD = 'gcc -s\n\nThis will be used to link .o files into an executable.\n';

/** compile and load scripts made from conf-cc/conf-ld as djb's Makefiles make them. */
const SCRIPTS = [
  'compile: conf-cc',
  `\t( echo '#!/bin/sh'; echo exec "\`head -1 conf-cc\`" '-c $\${1+"$$@"}' ) > compile`,
  '\tchmod 755 compile',
  '',
  'load: conf-ld',
  `\t( echo '#!/bin/sh'; echo 'main="$$1"; shift'; echo exec "\`head -1 conf-ld\`" '-o "$$main" "$$main".o $\${1+"$$@"}' ) > load`,
  '\tchmod 755 load',
  '',
].join('\n');

/** `write` is used undeclared on purpose: a strict compiler refuses it unless the flags allow it. */
const HELLO_C = 'int main(void) { write(1, "hello from C\\n", 13); return 0; }\n';

function slashTree(opts: { flockProbe?: string; helloC?: string } = {}): Record<string, TarEntry> {
  const top = 'admin/hello-1.0';
  const makefile = [
    'it: hello sysdeps',
    '',
    SCRIPTS,
    'hello.o: compile hello.c',
    '\t./compile hello.c',
    '',
    'hello: load hello.o',
    '\t./load hello',
    '',
    'hasflock.h: tryflock.c compile load',
    "\t( ( ./compile tryflock.c && ./load tryflock ) >/dev/null 2>&1 && echo '/* sysdep: +flock */' || echo '/* sysdep: -flock */' ) > hasflock.h",
    '',
    'sysdeps: compile load hasflock.h',
    '\trm -f sysdeps',
    '\tcat compile load >> sysdeps',
    '\tgrep sysdep hasflock.h >> sysdeps',
    '',
  ].join('\n');
  return {
    [`${top}/package/commands`]: 'hello\n',
    [`${top}/src/Makefile`]: makefile,
    [`${top}/src/conf-cc`]: CONF_CC,
    [`${top}/src/conf-ld`]: CONF_LD,
    [`${top}/src/hello.c`]: opts.helloC ?? HELLO_C,
    [`${top}/src/tryflock.c`]: opts.flockProbe ?? '#include <sys/file.h>\nint main(void) { flock(0, LOCK_EX); return 0; }\n',
  };
}

/** A flat NAME-VERSION/ tree whose program prints the conf-home it was built with. */
function classicTree(name: string, version: string): Record<string, TarEntry> {
  const top = `${name}-${version}`;
  const makefile = [
    'default: it',
    '',
    SCRIPTS,
    'auto_home.c: conf-home',
    '\techo "const char auto_home[] = \\"`head -1 conf-home`\\";" > auto_home.c',
    '',
    'auto_home.o: compile auto_home.c',
    '\t./compile auto_home.c',
    '',
    `${name}.o: compile ${name}.c`,
    `\t./compile ${name}.c`,
    '',
    `${name}: load ${name}.o auto_home.o`,
    `\t./load ${name} auto_home.o`,
    '',
    `it: ${name}`,
    '',
    'setup: it',
    '\t@echo djbpkg never runs make setup: it would install into the real conf-home; exit 1',
    '\texit 1',
    '',
    'check: it',
    '',
  ].join('\n');
  return {
    [`${top}/Makefile`]: makefile,
    [`${top}/conf-cc`]: CONF_CC,
    [`${top}/conf-ld`]: CONF_LD,
    [`${top}/conf-home`]: '/usr/local\n\nThis is the home directory.\n',
    [`${top}/${name}.c`]: `extern const char auto_home[];\nint main(void) { int n = 0; while (auto_home[n]) ++n; write(1, auto_home, n); write(1, "\\n", 1); return 0; }\n`,
  };
}

interface Fixture {
  base: string;
  root: string;
  recipes: string;
  run(args: string[], env?: Record<string, string | undefined>): Promise<RunResult>;
}

type Pkg = { name: string; category: string; version: string; entries: Record<string, TarEntry>; recipe: Record<string, unknown> };

async function fixture(pkgs: Pkg[]): Promise<Fixture> {
  const base = tempDir('djbpkg-native-');
  // Searchable by others, so that a build run as root can drop to nobody.
  chmodSync(base, 0o755);
  const root = path.join(base, 'root');
  mkdirSync(root);
  const recipes = path.join(base, 'recipes');
  const routes: Parameters<typeof startServer>[0] = {};
  const versions = new Map<string, Record<string, unknown>>();
  for (const p of pkgs) {
    const tb = await buildTarball(path.join(base, 'dist'), `${p.name}-${p.version}.tar.gz`, p.entries);
    routes[`/${p.name}-${p.version}.tar.gz`] = { kind: 'file', body: tb.bytes };
    const vs = versions.get(p.name) ?? {};
    vs[p.version] = { distfile: `${p.name}-${p.version}.tar.gz`, urls: ['http://127.0.0.1:9/unreachable'], size: tb.size, md5: tb.md5, sha256: tb.sha256, ...p.recipe };
    versions.set(p.name, vs);
    writeRecipe(recipes, { name: p.name, category: p.category, versions: vs });
  }
  const srv = await startServer(routes);
  return {
    base,
    root,
    recipes,
    run: (args, env) => djbpkg([...args, '--root', root, '--recipes', recipes, '--mirror', srv.url, '--distfiles', path.join(base, 'cache')], { env, timeoutMs: 180_000 }),
  };
}

const HELLO: Pkg = {
  name: 'hello',
  category: 'admin',
  version: '1.0',
  entries: slashTree(),
  recipe: { build: 'slashpackage', builds: ['native'], sysdeps: { [process.platform]: ['+flock'] } },
};

function classicPkg(name: string, version: string, requires: string[] = []): Pkg {
  return { name, category: 'net', version, entries: classicTree(name, version), recipe: { build: 'classic', commands: [name], requires } };
}

function ok(r: RunResult): Record<string, unknown> {
  if (r.code !== 0) throw new Error(`djbpkg exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function record(pkgDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of readFileSync(path.join(pkgDir, 'package/build'), 'utf8').split('\n')) {
    const i = l.indexOf(': ');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 2);
  }
  return out;
}

const BUILD_USER = process.getuid?.() === 0 ? 'nobody' : undefined;

describe('--build native', { timeout: 240_000 }, () => {
  it('compiles a slashpackage tree as package/compile does, records the compiler, and djbpkg sysdeps reports the compile\'s own file', async () => {
    const f = await fixture([HELLO]);
    const rep = ok(await f.run(['install', 'hello', '--build', 'native', '--json']));
    const pkg = path.join(f.root, 'package/admin/hello-1.0');
    expect(rep).toMatchObject({ name: 'hello', build: 'native', commands: ['hello'], missing: [], changed: true, sysdeps: path.join(pkg, 'compile/sysdeps') });
    const hello = await run(path.join(f.root, 'command/hello'), []);
    expect(hello.stdout).toBe('hello from C\n');
    expect((await run(path.join(f.root, 'usr/local/bin/hello'), [])).stdout).toBe('hello from C\n');
    // compile/ is linked to src/ relatively, so it survives the rename out of staging.
    expect(readlinkSync(path.join(pkg, 'compile/src'))).toBe('../src');
    expect(readlinkSync(path.join(pkg, 'compile/hello.c'))).toBe('src/hello.c');
    expect(readFileSync(path.join(pkg, 'compile/home'), 'utf8')).toBe('/package/admin/hello-1.0\n');
    const rec = record(pkg);
    expect(rec).toMatchObject({ build: 'native', type: 'slashpackage', sysdeps: 'compile/sysdeps', baseline: process.platform });
    expect(readFileSync(path.join(pkg, 'src/conf-cc'), 'utf8').split('\n')[0]).toBe(rec['conf-cc']);
    expect(rec['conf-cc']).toMatch(/^cc -O2/);
    expect(readFileSync(path.join(pkg, 'src/conf-cc'), 'utf8')).toContain('This will be used to compile .c files.');
    // As root the build drops to nobody; otherwise it runs as whoever runs djbpkg.
    expect(rec.user).toBe(BUILD_USER ?? userInfo().username);
    const sd = await f.run(['sysdeps', 'hello']);
    expect(sd.code).toBe(0);
    expect(sd.stdout).toBe(readFileSync(path.join(pkg, 'compile/sysdeps'), 'utf8'));
    expect(sd.stdout).toContain('/* sysdep: +flock */');
    expect((await f.run(['verify', 'hello'])).code).toBe(0);
    const list = await f.run(['list']);
    expect(list.stdout).toContain('admin/hello-1.0  current  build native  patches (none)');
    const again = ok(await f.run(['install', 'hello', '--build', 'native', '--json']));
    expect(again.changed).toBe(false);
  });

  it('picks flags for a strict compiler (GCC 14 stand-in) so the sources build unchanged, and records them', async () => {
    const f = await fixture([HELLO]);
    const bin = path.join(f.base, 'strict-bin');
    mkdirSync(bin);
    writeFileSync(
      path.join(bin, 'cc'),
      '#!/bin/sh\ncase "$1" in --version) echo "gcc (GCC) 14.2.0"; echo "Copyright (C) 2024 Free Software Foundation, Inc."; exit 0;; esac\nexec gcc -Werror=implicit-function-declaration -Werror=implicit-int "$@"\n',
      { mode: 0o755 },
    );
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    const src = path.join(f.base, 'hello.c');
    writeFileSync(src, HELLO_C);
    const plain = await run(path.join(bin, 'cc'), ['-O2', '-c', src, '-o', path.join(f.base, 'hello.o')], { env });
    expect(plain.code).not.toBe(0);
    const rep = ok(await f.run(['install', 'hello', '--build', 'native', '--json'], env));
    expect(rep.compiler).toMatchObject({ name: 'gcc', version: '14.2.0' });
    const rec = record(path.join(f.root, 'package/admin/hello-1.0'));
    expect(rec.flags).toContain('-std=gnu89');
    expect(rec.flags).toContain('-Wno-error=implicit-function-declaration');
    expect(rec['conf-cc']).toBe(`cc -O2 ${rec.flags}`);
    expect((await run(path.join(f.root, 'command/hello'), [])).stdout).toBe('hello from C\n');
  });

  it('refuses a build whose probes differ from the baseline, and a failing compile, leaving the root as it was', async () => {
    const flipped: Pkg = { ...HELLO, entries: slashTree({ flockProbe: 'int main(void) { this is not C; }\n' }) };
    const f = await fixture([flipped]);
    const r = await f.run(['install', 'hello', '--build', 'native']);
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/^djbpkg: fatal: the build's sysdeps differ from the known-good \S+ baseline: -flock where the baseline has \+flock$/m);
    expect(existsSync(path.join(f.root, 'package/admin/hello-1.0'))).toBe(false);
    expect(existsSync(path.join(f.root, 'command/hello'))).toBe(false);

    // A stricter compiler djbpkg has no flags for (it does not say what it is): the flock probe,
    // written in the old style, no longer compiles, and the build would silently lose flock.
    const oldStyle: Pkg = {
      ...HELLO,
      entries: slashTree({ helloC: '#include <unistd.h>\n' + HELLO_C, flockProbe: 'int main(void) { flock(0, 2); return 0; }\n' }),
    };
    const h = await fixture([oldStyle]);
    const bin = path.join(h.base, 'strict-bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'cc'), '#!/bin/sh\ncase "$1" in --version) echo "acme-cc 9.1"; exit 0;; esac\nexec gcc -Werror=implicit-function-declaration "$@"\n', { mode: 0o755 });
    const strict = await h.run(['install', 'hello', '--build', 'native'], { PATH: `${bin}:${process.env.PATH ?? ''}` });
    expect(strict.code).toBe(100);
    expect(strict.stderr).toContain("djbpkg: fatal: the build's sysdeps differ from the known-good");
    expect(strict.stderr).toContain('-flock where the baseline has +flock');
    expect(existsSync(path.join(h.root, 'package/admin/hello-1.0'))).toBe(false);

    const broken: Pkg = { ...HELLO, entries: slashTree({ helloC: 'int main(void) { return }\n' }) };
    const g = await fixture([broken]);
    const b = await g.run(['install', 'hello', '--build', 'native']);
    expect(b.code).toBe(100);
    expect(b.stderr).toMatch(/^djbpkg: fatal: make in \S*\/package\/admin\/\.hello-1\.0\.staging-\w+\/admin\/hello-1\.0\/compile failed \(exit 2\): /m);
    expect(existsSync(path.join(g.root, 'package/admin/hello-1.0'))).toBe(false);
    expect(b.stderr).toContain(`djbpkg: hint: nothing was installed; make's whole output is in ${g.root}/var/lib/djbpkg/hello-1.0.make.log\n`);
    expect(readFileSync(path.join(g.root, 'var/lib/djbpkg/hello-1.0.make.log'), 'utf8')).toContain('hello.c');
  });

  it('names the Debian package when the compiler or make is missing', async () => {
    const f = await fixture([HELLO]);
    const r = await f.run(['install', 'hello', '--build', 'native'], { CC: 'no-such-cc' });
    expect(r.code).toBe(100);
    expect(r.stderr.split('\n')[0]).toBe("djbpkg: fatal: C compiler no-such-cc not found on PATH; a native build needs it: install Debian's gcc (or build-essential)");
    const bin = path.join(f.base, 'no-make');
    mkdirSync(bin);
    const gcc = (await run('/bin/sh', ['-c', 'command -v gcc'])).stdout.trim();
    writeFileSync(path.join(bin, 'cc'), `#!/bin/sh\nexec ${gcc} "$@"\n`, { mode: 0o755 });
    const m = await f.run(['install', 'hello', '--build', 'native'], { PATH: `${bin}:/nonexistent`, CC: path.join(bin, 'cc') });
    expect(m.code).toBe(100);
    expect(m.stderr.split('\n')[0]).toBe("djbpkg: fatal: make not found on PATH; a native build needs it: install Debian's make (or build-essential)");
  });

  it('builds a classic flat tree with conf-home set to the version-less link and lays it out slashpackage-style', async () => {
    const f = await fixture([classicPkg('greet', '2.0')]);
    const ts = await f.run(['install', 'greet', '--build', 'ts']);
    expect(ts.code).toBe(100);
    expect(ts.stderr).toContain('djbpkg: fatal: greet 2.0 has no ts build');
    const rep = ok(await f.run(['install', 'greet', '--json']));
    const pkg = path.join(f.root, 'package/net/greet-2.0');
    expect(rep).toMatchObject({ name: 'greet', build: 'native', packageDir: pkg, commands: ['greet'], changed: true });
    expect(readlinkSync(path.join(f.root, 'package/net/greet'))).toBe('greet-2.0');
    expect(readlinkSync(path.join(pkg, 'bin'))).toBe('command');
    expect(readFileSync(path.join(pkg, 'conf-home'), 'utf8')).toBe('/package/net/greet\n\nThis is the home directory.\n');
    expect((await run(path.join(f.root, 'command/greet'), [])).stdout).toBe('/package/net/greet\n');
    expect((await run(path.join(f.root, 'package/net/greet/bin/greet'), [])).stdout).toBe('/package/net/greet\n');
    expect(record(pkg)).toMatchObject({ build: 'native', type: 'classic', sysdeps: 'package/sysdeps' });
    expect(existsSync(path.join(f.root, 'etc/rc.local'))).toBe(false);
    expect((await f.run(['verify', 'greet'])).code).toBe(0);
    expect(readFileSync(path.join(pkg, 'package/commands'), 'utf8')).toBe('greet\n');
    const doctor = await f.run(['doctor']);
    expect(doctor.stdout).toContain('ok      links: 2 /command and /usr/local/bin links of installed packages resolve\n');
    expect(doctor.stdout).toContain('ok      commands: 1 command file of installed packages exist and are executable\n');
  });

  it('switches between natively built versions through the version-less link, as for ts', async () => {
    const f = await fixture([classicPkg('greet', '2.0'), classicPkg('greet', '2.1')]);
    ok(await f.run(['install', 'greet@2.0', '--json']));
    expect(readlinkSync(path.join(f.root, 'package/net/greet'))).toBe('greet-2.0');
    ok(await f.run(['install', 'greet@2.1', '--json']));
    expect(readlinkSync(path.join(f.root, 'package/net/greet'))).toBe('greet-2.1');
    // Built with the version-less conf-home, both print the same path, which now leads to 2.1.
    expect((await run(path.join(f.root, 'command/greet'), [])).stdout).toBe('/package/net/greet\n');
    expect(realpathSync(path.join(f.root, 'command/greet'))).toBe(path.join(realpathSync(f.root), 'package/net/greet-2.1/command/greet'));
    expect((await f.run(['list'])).stdout).toBe('net/greet-2.0  old      build native  patches (none)\nnet/greet-2.1  current  build native  patches (none)\n');
    expect((await f.run(['remove', 'greet@2.0'])).code).toBe(0);
    expect(existsSync(path.join(f.root, 'package/net/greet-2.0'))).toBe(false);
    expect((await f.run(['verify', 'greet'])).code).toBe(0);
  });

  it('installs what a recipe requires first, plans it all in a dry run, and remove refuses to pull a requirement', async () => {
    const f = await fixture([classicPkg('greet', '2.0'), classicPkg('wave', '1.0', ['greet']), classicPkg('app', '1.0', ['wave', 'greet'])]);
    const dry = await f.run(['install', 'app', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain('djbpkg:   1. greet 2.0 (native build, required by wave)\ndjbpkg:   2. wave 1.0 (native build, required by app)\ndjbpkg:   3. app 1.0 (native build)\n');
    expect(dry.stderr).toContain(`djbpkg: greet: links: would link ${f.root}/command/greet -> ../package/net/greet/command/greet`);
    expect(dry.stderr).toContain('djbpkg: app: build: would compile with the system C compiler');
    expect(dry.stderr).toMatch(/^djbpkg: app: build: note: compiler .+; conf-cc would be: cc -O2.*; GNU Make/m);
    expect(existsSync(path.join(f.root, 'package'))).toBe(false);

    const rep = ok(await f.run(['install', 'app', '--json']));
    expect((rep.requirements as { name: string }[]).map((r) => r.name)).toEqual(['greet', 'wave']);
    expect((await run(path.join(f.root, 'command/wave'), [])).stdout).toBe('/package/net/wave\n');
    const list = await f.run(['list']);
    expect(list.stdout).toContain('net/app-1.0  current  build native  patches (none)  requires wave,greet');
    const info = await f.run(['info', 'app']);
    expect(info.stdout).toContain('  requires  wave, greet');

    const refused = await f.run(['remove', 'greet']);
    expect(refused.code).toBe(100);
    expect(refused.stderr).toBe('djbpkg: fatal: greet is required by app 1.0, wave 1.0; not removing it\ndjbpkg: hint: remove app and wave first, or run remove with --force to remove greet anyway\n');
    expect(existsSync(path.join(f.root, 'package/net/greet-2.0'))).toBe(true);
    expect((await f.run(['remove', 'app'])).code).toBe(0);
    const again = ok(await f.run(['install', 'app', '--json']));
    expect(again.requirements).toBeUndefined();
    const forced = await f.run(['remove', 'greet', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('djbpkg: warning: --force: removing greet although app 1.0 requires it (greet)');
    expect(existsSync(path.join(f.root, 'package/net/greet-2.0'))).toBe(false);
  });
});

describe('native build pieces', () => {
  it('reads compiler versions and chooses flags by family and version', () => {
    const gcc12 = parseCompilerVersion('cc', 'cc (Debian 12.2.0-14+deb12u1) 12.2.0\nCopyright (C) 2022 Free Software Foundation, Inc.\n');
    expect(gcc12).toMatchObject({ family: 'gcc', version: '12.2.0', major: 12 });
    expect(chooseFlags(gcc12).cc).toBe('cc -O2');
    const gcc15 = parseCompilerVersion('gcc', 'gcc (GCC) 15.1.1 20250425\n');
    expect(chooseFlags(gcc15).cc).toBe('gcc -O2 -std=gnu89 -Wno-error=implicit-function-declaration -Wno-error=implicit-int -Wno-error=incompatible-pointer-types -Wno-error=int-conversion');
    const clang = parseCompilerVersion('cc', 'Debian clang version 16.0.6 (15)\nTarget: x86_64-pc-linux-gnu\n');
    expect(clang).toMatchObject({ family: 'clang', major: 16 });
    expect(chooseFlags(clang).extra).toContain('-std=gnu89');
    expect(chooseFlags(parseCompilerVersion('cc', 'tcc version 0.9.27\n')).cc).toBe('cc -O2');
  });

  it('compares sysdep lines with a baseline', () => {
    const found = parseSysdepLines('/* sysdep: +flock */\n/* sysdep: -shortsetgroups */\n');
    expect(compareSysdeps(found, ['+flock', '-shortsetgroups'])).toEqual([]);
    expect(compareSysdeps(found, ['-flock', '+poll'])).toEqual(['+flock where the baseline has -flock', 'poll not probed (baseline +poll)']);
  });

  it('orders requirements depth first and refuses a cycle', async () => {
    const recipes: Record<string, { name: string; version: string; requires: string[] }> = {
      a: { name: 'a', version: '1', requires: ['b', 'c'] },
      b: { name: 'b', version: '1', requires: ['c'] },
      c: { name: 'c', version: '1', requires: [] },
      x: { name: 'x', version: '1', requires: ['y'] },
      y: { name: 'y', version: '1', requires: ['x'] },
    };
    const resolve = async (s: string) => recipes[s.split('@')[0]!]!;
    const plan = await planInstalls(recipes.a!, resolve, async () => undefined);
    expect(plan.map((p) => `${p.recipe.name}<${p.requiredBy ?? ''}`)).toEqual(['c<b', 'b<a', 'a<']);
    const some = await planInstalls(recipes.a!, resolve, async (n) => (n === 'c' ? '1' : undefined));
    expect(some.map((p) => p.recipe.name)).toEqual(['b', 'a']);
    await expect(planInstalls(recipes.x!, resolve, async () => undefined)).rejects.toThrow('requirement cycle: x -> y -> x');
  });
});
