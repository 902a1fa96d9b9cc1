import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/posix/index.js';
import { packChildRecord, readChildRecord, stillRunning, unpackChildRecord, writeChildRecord } from '../../src/supervision/sidecar.js';
import { startProcess } from '../support/procs.js';
import { tempDir } from '../support/tmp.js';
import { SLEEP } from '../support/supervise.js';

describe('supervise/child', () => {
  it('packs to four text lines and back', () => {
    const r = { pid: 4242, start: 1234567890123n, pipe: 98765n, boot: 'b00t' };
    expect(packChildRecord(r)).toBe('pid 4242\nstart 1234567890123\npipe 98765\nboot b00t\n');
    expect(unpackChildRecord(packChildRecord(r))).toEqual(r);
  });

  it('reads a damaged or foreign file as no record', () => {
    for (const text of ['', 'pid 0\nstart 1\n', 'pid x\nstart 1\n', 'pid 12\nstart many\n', 'pid 12\n', '\u0000\u0001']) {
      expect(unpackChildRecord(text), JSON.stringify(text)).toBeUndefined();
    }
    expect(unpackChildRecord('pid 12\nstart 7\n')).toEqual({ pid: 12, start: 7n, pipe: 0n, boot: '' });
  });

  it('is written atomically (no child.new left) with mode 0644, bound to this boot; a record of another boot is none', () => {
    const dir = tempDir();
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    writeChildRecord(dir, { pid: 1, start: 2n, pipe: 3n });
    expect(readFileSync(`${dir}/child`, 'latin1')).toBe(`pid 1\nstart 2\npipe 3\nboot ${boot}\n`);
    expect(statSync(`${dir}/child`).mode & 0o777).toBe(0o644);
    expect(() => statSync(`${dir}/child.new`)).toThrow();
    expect(readChildRecord(dir)).toEqual({ pid: 1, start: 2n, pipe: 3n, boot });
    expect(readChildRecord(`${dir}/missing`)).toBeUndefined();
    writeChildRecord(dir, { pid: 1, start: 2n, pipe: 3n, boot: 'another-boot' });
    expect(readChildRecord(dir)).toBeUndefined();
    writeFileSync(`${dir}/child`, 'pid 1\nstart 2\npipe 3\n');
    expect(readChildRecord(dir)).toBeUndefined();
  });

  it('a process is still the recorded one only with the same start time, and not once it is gone', async () => {
    const p = startProcess(SLEEP, ['1000']);
    const start = processStartTime(p.pid);
    expect(typeof start).toBe('bigint');
    expect(stillRunning({ pid: p.pid, start: start!, pipe: 0n })).toBe(true);
    expect(stillRunning({ pid: p.pid, start: start! + 1n, pipe: 0n })).toBe(false);
    process.kill(p.pid, 'SIGKILL');
    await p.exited;
    expect(stillRunning({ pid: p.pid, start: start!, pipe: 0n })).toBe(false);
    expect(processStartTime(-1)).toBeUndefined();
  });
});
