import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/posix/index.js';
import { packChildRecord, readChildRecord, stillRunning, unpackChildRecord, writeChildRecord } from '../../src/supervision/sidecar.js';
import { startProcess } from '../support/procs.js';
import { tempDir } from '../support/tmp.js';
import { SLEEP } from './service.js';

describe('supervise/child', () => {
  it('packs to three text lines and back', () => {
    const r = { pid: 4242, start: 1234567890123n, pipe: 98765n };
    expect(packChildRecord(r)).toBe('pid 4242\nstart 1234567890123\npipe 98765\n');
    expect(unpackChildRecord(packChildRecord(r))).toEqual(r);
  });

  it('reads a damaged or foreign file as no record', () => {
    for (const text of ['', 'pid 0\nstart 1\n', 'pid x\nstart 1\n', 'pid 12\nstart many\n', 'pid 12\n', '\u0000\u0001']) {
      expect(unpackChildRecord(text), JSON.stringify(text)).toBeUndefined();
    }
    expect(unpackChildRecord('pid 12\nstart 7\n')).toEqual({ pid: 12, start: 7n, pipe: 0n });
  });

  it('is written atomically (no child.new left) with mode 0644', () => {
    const dir = tempDir();
    writeChildRecord(dir, { pid: 1, start: 2n, pipe: 3n });
    expect(readFileSync(`${dir}/child`, 'latin1')).toBe('pid 1\nstart 2\npipe 3\n');
    expect(() => statSync(`${dir}/child.new`)).toThrow();
    expect(readChildRecord(dir)).toEqual({ pid: 1, start: 2n, pipe: 3n });
    expect(readChildRecord(`${dir}/missing`)).toBeUndefined();
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
