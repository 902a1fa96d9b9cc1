import { describe, expect, it } from 'vitest';
import { PROJECT } from '../support/run.js';

describe('exitImmediately', () => {
  it('ends the process with the code even while a read of stdin is blocked on a worker thread', async () => {
    const script = `
      import fs from 'node:fs';
      import { exitImmediately } from ${JSON.stringify(PROJECT + 'dist/posix/index.js')};
      fs.read(0, Buffer.alloc(8), 0, 8, null, () => {});
      process.stdout.write('before\\n', () => setTimeout(() => exitImmediately(7), 50));
    `;
    // stdin stays open (the write end is ours and never closed before exit).
    const r = await runOpen(script);
    expect(r).toEqual({ code: 7, stdout: 'before\n' });
  });
});

async function runOpen(script: string): Promise<{ code: number | null; stdout: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, stdout: out });
    });
  });
}
