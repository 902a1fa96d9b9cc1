import { describe, expect, it } from 'vitest';
import { djbpkg } from '../support/run.js';

describe('djbpkg top level', () => {
  it('prints help naming the global options and exits 0', async () => {
    const r = await djbpkg(['--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--root', '--recipes', '--distfiles', '--mirror', '--offline', '--json']) {
      expect(r.stdout).toContain(opt);
    }
    expect(r.stderr).toBe('');
  });

  it('prints the version', async () => {
    const r = await djbpkg(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects an unknown command with one fatal line and exit 100, no stack trace', async () => {
    const r = await djbpkg(['frobnicate']);
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/^djbpkg: fatal: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
