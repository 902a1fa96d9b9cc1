import { describe, expect, it } from 'vitest';
import { djbpkg } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

/** Usage errors a person can act on, and help that puts each verb's own options first. */

describe('usage errors and help', { timeout: 60_000 }, () => {
  it('option-typo: an unknown option gets the nearest one of the verb (or a global one)', async () => {
    const root = tempDir('djbpkg-usage-');
    const cases: [string[], string, string][] = [
      [['install', 'daemontools', '--wiht', 'sigq12'], 'unknown option --wiht', 'did you mean --with?'],
      [['install', 'daemontools', '--dryrun'], 'unknown option --dryrun', 'did you mean --dry-run?'],
      [['service', 'logs', 'x', '--folow'], 'unknown option --folow', 'did you mean --follow?'],
      [['service', 'remove', 'x', '--purge-log'], 'unknown option --purge-log', 'did you mean --purge-logs?'],
      [['list', '--jsno'], 'unknown option --jsno', 'did you mean --json?'],
    ];
    for (const [args, fatal, hint] of cases) {
      const r = await djbpkg([...args, '--root', root]);
      expect(r.code, args.join(' ')).toBe(100);
      expect(r.stderr).toBe(`djbpkg: fatal: ${fatal}\ndjbpkg: hint: ${hint} (djbpkg COMMAND --help lists the options)\n`);
    }
  });

  it('service-verb-typo: service statsu web names the unknown command and suggests status', async () => {
    const root = tempDir('djbpkg-usage-');
    const r = await djbpkg(['service', 'statsu', 'web', '--root', root]);
    expect(r.code).toBe(100);
    expect(r.stderr).toBe('djbpkg: fatal: unknown command: service statsu\ndjbpkg: hint: did you mean djbpkg service status? (djbpkg service --help lists them)\n');
    const extra = await djbpkg(['list', 'stray', '--root', root]);
    expect(extra.code).toBe(100);
    expect(extra.stderr.split('\n')[0]).toBe('djbpkg: fatal: unexpected argument stray');
  });

  it('help-order: each verb lists its own options first, the global ones after', async () => {
    for (const verb of [['install'], ['remove'], ['service', 'add'], ['service', 'logs'], ['boot']]) {
      const r = await djbpkg([...verb, '--help']);
      expect(r.code, verb.join(' ')).toBe(0);
      const own = r.stdout.indexOf('\nOptions:\n');
      const global = r.stdout.indexOf('\nGlobal options:\n');
      expect(own, r.stdout).toBeGreaterThan(0);
      expect(global).toBeGreaterThan(own);
      // The global options are under their heading only, once.
      expect(r.stdout.slice(own, global)).not.toContain('--root');
      expect(r.stdout.split('--root ').length - 1).toBe(1);
    }
    const add = await djbpkg(['service', 'add', '--help']);
    expect(add.stdout.slice(add.stdout.indexOf('\nOptions:\n'), add.stdout.indexOf('\nGlobal options:\n'))).toContain('--force');
  });
});
