import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { djbpkg } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

describe('djbpkg sysdeps', () => {
  it('prints the report and says it wrote nothing when the package is not installed', async () => {
    const root = tempDir();
    const r = await djbpkg(['sysdeps', '--root', root]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^linux-/);
    expect(lines[1]).toBe('build: ts');
    expect(lines[2]).toMatch(/^runtime: node v\d+\.\d+\.\d+ \/\S+; koffi \d+\.\d+\.\d+$/);
    expect(lines).toHaveLength(3 + 13);
    expect(r.stderr).toBe(`djbpkg: daemontools is not installed under ${root}; the report was not written anywhere\n`);
    expect(existsSync(path.join(root, 'package'))).toBe(false);
  });

  it('--json gives the same facts as an object', async () => {
    const root = tempDir();
    const text = await djbpkg(['sysdeps', '--root', root]);
    const r = await djbpkg(['sysdeps', '--json', '--root', root]);
    expect(r.code).toBe(0);
    const obj = JSON.parse(r.stdout) as { systype: string; build: { kind: string }; features: { name: string; present: boolean }[]; written: null };
    expect(obj.systype).toBe(text.stdout.split('\n')[0]);
    expect(obj.build.kind).toBe('ts');
    expect(obj.written).toBeNull();
    const fromText = text.stdout.trimEnd().split('\n').slice(3);
    expect(obj.features.map((f) => `/* sysdep: ${f.present ? '+' : '-'}${f.name} */`)).toEqual(fromText);
  });
});
