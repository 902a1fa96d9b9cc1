import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../../support/tmp.js';
import { C_MULTILOG, HAVE_C_MULTILOG, MULTILOG, archives, fileSize, logContents, mixedLines, send, start } from '../../support/multilog.js';
import { describeNeeds } from '../../support/needs.js';
import { pollUntil } from '../../support/procs.js';

const NEEDS_C = '/usr/bin/multilog is not installed (apt-get install daemontools)';

/** Runs with stdin read from a regular file, so both programs see the same read boundaries. */
function runFromFile(cmd: string, args: string[], cwd: string, input: string): Promise<{ code: number | null; stderr: string }> {
  const fd = fs.openSync(input, 'r');
  const isJs = cmd.endsWith('.js');
  const child = spawn(isJs ? process.execPath : cmd, isJs ? [cmd, ...args] : args, {
    cwd,
    env: { PATH: process.env.PATH, LANG: 'C', TZ: 'UTC' },
    stdio: [fd, 'ignore', 'pipe'],
  });
  fs.closeSync(fd);
  const err: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr: Buffer.concat(err).toString('latin1') });
    }),
  );
}

/** What must be identical: each file's kind, mode, size and bytes, archives in order (names differ by time). */
function describeTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    const names = fs.readdirSync(dir).sort();
    for (const n of names) {
      const full = path.join(dir, n);
      const st = fs.statSync(full);
      const shown = n.startsWith('@') ? `@archive${n.slice(-2)}` : n;
      if (st.isDirectory()) walk(full, `${rel}${n}/`);
      else out.push(`${rel}${shown} ${(st.mode & 0o777).toString(8)} ${st.size} ${fs.readFileSync(full).toString('base64')}`);
    }
  };
  walk(root, '');
  return out;
}

/** [lines of input, script]: the processor case is kept short (a fork per rotation). */
const SCRIPTS: [number, string[]][] = [
  [4000, ['s4096', 'n1000', './d']],
  [4000, ['s5000', 'n5', './a', '-*5*', 's9000', './b', 'e', '+1*', '=stat']],
  [500, ['s4096', 'n4', '!tr a-z A-Z', './p']],
  [4000, ['-*', '+line 1*', './sel', 's100000', './big']],
];

describeNeeds(HAVE_C_MULTILOG, NEEDS_C)('multilog against C multilog 0.76', () => {
  it.each(SCRIPTS)('same directory contents and stderr: %i lines, script %j', async (lines, script) => {
    const base = tempDir();
    const input = path.join(base, 'input');
    fs.writeFileSync(input, mixedLines(lines, script.length).join('\n') + '\nfinal line without newline');
    const cDir = path.join(base, 'c');
    const oDir = path.join(base, 'ours');
    fs.mkdirSync(cDir);
    fs.mkdirSync(oDir);
    const c = await runFromFile(C_MULTILOG, script, cDir, input);
    const ours = await runFromFile(MULTILOG, script, oDir, input);
    expect(ours.code).toBe(c.code);
    expect(ours.stderr).toBe(c.stderr);
    const cTree = describeTree(cDir);
    expect(cTree.length).toBeGreaterThan(3);
    expect(describeTree(oDir)).toEqual(cTree);
  });
});

describeNeeds(HAVE_C_MULTILOG, NEEDS_C)('C and our multilog taking turns on one directory', () => {
  it('ours salvages what C left after kill -9; C appends after our clean exit', async () => {
    const base = tempDir();
    const d = path.join(base, 'd');
    const c = start(C_MULTILOG, ['./d'], base);
    await send(c, 'from C\n');
    await pollUntil('C wrote', () => fileSize(path.join(d, 'current')) === 7);
    c.child.kill('SIGKILL');
    await c.exited;
    const ours = start(MULTILOG, ['./d'], base);
    await send(ours, 'from ours\n');
    ours.child.stdin.end();
    expect((await ours.exited)[0]).toBe(0);
    expect(archives(d).map((n) => n.slice(-2))).toEqual(['.u']);
    const again = start(C_MULTILOG, ['./d'], base);
    await send(again, 'C again\n');
    again.child.stdin.end();
    expect((await again.exited)[0]).toBe(0);
    expect(archives(d).length).toBe(1);
    expect(logContents(d).toString('latin1')).toBe('from C\nfrom ours\nC again\n');
  });
});
