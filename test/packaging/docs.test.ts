import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT, djbpkg } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { brokenLinks, checkFiles, helpOptions, helpVerbs, manEntries, markdownFiles, namedPaths, pathExists, relativeLinks } from '../support/doclinks.js';

/** The documentation holds together: links resolve, the README stays a front door, every verb is documented. */

const README = path.join(PROJECT, 'README.md');
const DOCS = [README, path.join(PROJECT, 'CONTRIBUTING.md'), ...markdownFiles(path.join(PROJECT, 'docs')), ...markdownFiles(path.join(PROJECT, 'bench'))];
/** djbpkg.8 with the font escapes taken out (`\fBstop\fR` reads `stop`). */
const MAN_DJBPKG = readFileSync(path.join(PROJECT, 'man', 'djbpkg.8'), 'utf8').replace(/\\f[BIRP]/g, '').replace(/\\-/g, '-');

describe('the link checker', () => {
  it('finds links, skips URLs, anchors and code, and reports a link to a missing file', () => {
    const dir = tempDir('djbpkg-doclinks-');
    mkdirSync(path.join(dir, 'docs'));
    writeFileSync(path.join(dir, 'docs', 'there.md'), '# there\n');
    const file = path.join(dir, 'README.md');
    const text = [
      'See [there](docs/there.md#a-section) and [gone](docs/gone.md).',
      '[web](https://example.org/x.md) [anchor](#install) `[code](nope.md)`',
      '    [indented](nope-too.md)',
      '```',
      '[fenced](nope-three.md)',
      '```',
      '[ref]: docs/missing-ref.md',
    ].join('\n');
    const links = relativeLinks(file, text);
    expect(links.map((l) => l.target)).toEqual(['docs/there.md#a-section', 'docs/gone.md', 'docs/missing-ref.md']);
    expect(brokenLinks(links).map((l) => `${l.line}:${l.target}`)).toEqual(['1:docs/gone.md', '7:docs/missing-ref.md']);
  });

  it('finds the repository paths a text names, and globs in them', () => {
    expect(namedPaths('see `src/core/root.ts`, `test/installed/faults-*.test.ts`, `bench/results/DATE-COMMIT.md`, `src/error.h` and `src/core/root.ts`')).toEqual([
      'src/core/root.ts',
      'test/installed/faults-*.test.ts',
    ]);
    expect(pathExists(PROJECT, 'src/core/root.ts')).toBe(true);
    expect(pathExists(PROJECT, 'test/installed/faults-*.test.ts')).toBe(true);
    expect(pathExists(PROJECT, 'test/installed/faults.test.ts')).toBe(false);
    expect(pathExists(PROJECT, 'test/installed/nothing-*.test.ts')).toBe(false);
  });

  it('reads the options of a yargs help text', () => {
    const help = 'Options:\n      --root       install into DIR\n  -n, --lines      print the last LINES lines\n      --dry-run    print\n';
    expect(helpOptions(help)).toEqual([{ long: 'root' }, { long: 'lines', short: 'n' }, { long: 'dry-run' }]);
  });

  it("cuts a man page into each verb's entry", () => {
    const man = '.SH COMMANDS\n.TP\n.B init [--dry-run]\nMake.\n.TP\n.B service start|stop \\fIname\\fR\nWait.\n.B \\-\\-wait\n.SH EXIT STATUS\n.B 0\n';
    const e = manEntries(man.replace(/\\f[BIRP]/g, ''), ['init', 'service start', 'service stop']);
    expect(e.get('init')).toBe('.B init [--dry-run]\nMake.\n.TP');
    expect(e.get('service stop')).toContain('\\-\\-wait');
    expect(e.get('service start')).not.toContain('EXIT');
  });

  it('reads the verbs of a yargs help text', () => {
    const help = 'djbpkg <command>\n\nCommands:\n  djbpkg init   create\n  djbpkg install <spec>  install\n                 more text\n\nOptions:\n  --root  x\n';
    expect(helpVerbs(help, 'djbpkg')).toEqual(['init', 'install']);
  });
});

describe('the documentation', () => {
  it('has every relative link in README.md, CONTRIBUTING.md, docs/ and bench/ resolving to a file', () => {
    expect(DOCS.length).toBeGreaterThan(10);
    expect(checkFiles(DOCS).map((l) => `${path.relative(PROJECT, l.file)}:${l.line}: ${l.target}`)).toEqual([]);
  });

  it('names only files of the repository that exist (`src/…`, `test/…` in code spans)', () => {
    const missing = DOCS.flatMap((f) => namedPaths(readFileSync(f, 'utf8')).filter((p) => !pathExists(PROJECT, p)).map((p) => `${path.relative(PROJECT, f)}: ${p}`));
    expect(missing).toEqual([]);
  });

  it('keeps README.md under 250 lines', () => {
    expect(readFileSync(README, 'utf8').split('\n').length).toBeLessThan(250);
  });

  it("lists every verb of djbpkg --help in the README's table and in djbpkg.8", async () => {
    const r = await djbpkg(['--help']);
    expect(r.code).toBe(0);
    const verbs = helpVerbs(r.stdout, 'djbpkg');
    expect(verbs).toContain('install');
    expect(verbs).toContain('service');
    const readme = readFileSync(README, 'utf8');
    const tableVerbs = [...readme.matchAll(/^\| `([a-z]+)/gm)].map((m) => m[1]);
    for (const v of verbs) {
      expect(tableVerbs, `README table lacks ${v}`).toContain(v);
      expect(MAN_DJBPKG, `djbpkg.8 lacks ${v}`).toMatch(new RegExp(`^\\.B ${v}\\b`, 'm'));
    }
  });

  it('documents every service verb of djbpkg service --help in the README and in djbpkg.8', async () => {
    const r = await djbpkg(['service', '--help']);
    expect(r.code).toBe(0);
    const verbs = helpVerbs(r.stdout, 'djbpkg service');
    expect(verbs.length).toBeGreaterThanOrEqual(9);
    const row = readFileSync(README, 'utf8').split('\n').find((l) => l.startsWith('| `service '));
    expect(row).toBeDefined();
    for (const v of verbs) {
      expect(row, `README's service row lacks ${v}`).toMatch(new RegExp(`[ |]${v}[\\\\|\` ]`));
      expect(MAN_DJBPKG, `djbpkg.8 lacks service ${v}`).toMatch(new RegExp(`^\\.B service ([a-z|]*\\|)?${v}\\b`, 'm'));
    }
  });

  it("names every option of every verb's --help in that verb's entry of djbpkg.8", { timeout: 180_000 }, async () => {
    const global = new Set(helpOptions((await djbpkg(['--help'])).stdout).map((o) => o.long));
    const top = helpVerbs((await djbpkg(['--help'])).stdout, 'djbpkg');
    const service = helpVerbs((await djbpkg(['service', '--help'])).stdout, 'djbpkg service').map((v) => `service ${v}`);
    // `service` is a group: its verbs are checked one by one.
    const verbs = [...top.filter((v) => v !== 'service'), ...service];
    expect(verbs.length).toBeGreaterThan(15);
    // Four at a time: the machine is shared.
    const helps: Awaited<ReturnType<typeof djbpkg>>[] = [];
    for (let i = 0; i < verbs.length; i += 4) {
      helps.push(...(await Promise.all(verbs.slice(i, i + 4).map((verb) => djbpkg([...verb.split(' '), '--help'])))));
    }
    const entries = manEntries(MAN_DJBPKG, verbs);
    const missing: string[] = [];
    for (const [k, verb] of verbs.entries()) {
      const entry = entries.get(verb);
      expect(entry, `djbpkg.8 has no entry for ${verb}`).toBeDefined();
      const r = helps[k]!;
      expect(r.code, verb).toBe(0);
      for (const o of helpOptions(r.stdout)) {
        if (global.has(o.long)) continue;
        const named = [`--${o.long}`, `--no-${o.long}`, ...(o.short ? [`-${o.short}`] : [])].some((w) => new RegExp(`(^|[^a-z-])${w}\\b`, 'm').test(entry!));
        if (!named) missing.push(`${verb} --${o.long}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
