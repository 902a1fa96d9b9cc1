import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT, run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

/**
 * The layers of src/, written as dependency-cruiser rules in
 * .dependency-cruiser.cjs: no folder imports from a layer above it, and no
 * import circle. There is no list of known violations: any one fails.
 */

const DEPCRUISE = path.join(PROJECT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const CONFIG = path.join(PROJECT, '.dependency-cruiser.cjs');

const cruise = (cwd: string, extra: string[] = []) =>
  run(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', 'err', ...extra], { cwd, timeoutMs: 120_000 });

describe('the layers of src/', { timeout: 180_000 }, () => {
  it('has no import from a lower layer to a higher one and no import circle', async () => {
    const r = await cruise(PROJECT);
    expect(r.stdout + r.stderr).toContain('no dependency violations found');
    expect(r.code).toBe(0);
  });

  it('fails on an upward import and on a circle (a made-up tree)', async () => {
    const dir = tempDir('djbpkg-layers-');
    mkdirSync(path.join(dir, 'src/core'), { recursive: true });
    mkdirSync(path.join(dir, 'src/cli'), { recursive: true });
    writeFileSync(path.join(dir, 'src/core/a.ts'), "import { b } from '../cli/b.js';\nexport const a = (): number => b;\n");
    writeFileSync(path.join(dir, 'src/cli/b.ts'), "import { a } from '../core/a.js';\nexport const b = 1;\nexport const c = a;\n");
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true } }));
    const r = await cruise(dir);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/error layer-core-posix: src\/core\/a\.ts → src\/cli\/b\.ts/);
    expect(r.stdout).toMatch(/error no-circular:/);
  });
});
