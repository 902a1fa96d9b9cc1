import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATUS_BYTES } from '../../src/supervision/status.js';
import { tai64nToUnix } from '../../src/djb/tai64n.js';
import { pollUntil, procState } from '../support/procs.js';
import { tempDir } from '../support/tmp.js';
import { events, ours, readStatus, recordingService, startSupervise, starts, waitUp } from '../support/supervise.js';

describe('supervise', () => {
  it('starts run, writes an 18-byte status decoded field by field, and svstat reports it up', async () => {
    const base = tempDir();
    const dir = recordingService(path.join(base, 'svc1'));
    const before = Math.floor(Date.now() / 1000);
    const sup = startSupervise(dir);
    const pid = await waitUp(dir);
    const after = Math.ceil(Date.now() / 1000);
    const raw = readFileSync(path.join(dir, 'supervise/status'));
    expect(raw.length).toBe(STATUS_BYTES);
    expect(raw.readUInt32LE(12)).toBe(pid);
    expect(raw[16]).toBe(0);
    expect(raw[17]).toBe(0x75);
    const st = readStatus(dir)!;
    expect(tai64nToUnix(st.when)).toBeGreaterThanOrEqual(before);
    expect(tai64nToUnix(st.when)).toBeLessThanOrEqual(after);
    expect(st.when.nano % 1000).toBe(500);
    expect((statSync(path.join(dir, 'supervise')).mode & 0o777).toString(8)).toBe('700');
    expect(statSync(path.join(dir, 'supervise/control')).isFIFO()).toBe(true);
    expect(statSync(path.join(dir, 'supervise/ok')).isFIFO()).toBe(true);
    expect((statSync(path.join(dir, 'supervise/status')).mode & 0o777).toString(8)).toBe('644');
    const r = await ours('svstat', ['svc1'], { cwd: base });
    expect(r.stdout).toMatch(new RegExp(`^svc1: up \\(pid ${pid}\\) \\d+ seconds\\n$`));
    expect(r.code).toBe(0);
    expect((await ours('svok', ['svc1'], { cwd: base })).code).toBe(0);
    expect(sup.stderr()).toBe('');
  });

  it('svc -h -a -i reach the child as HUP ALRM INT; -p stops it and -c continues it', async () => {
    const base = tempDir();
    const dir = recordingService(path.join(base, 's'));
    startSupervise(dir);
    const pid = await waitUp(dir);
    await ours('svc', ['-h', 's'], { cwd: base });
    await pollUntil('HUP', () => events(dir).includes('HUP'));
    await ours('svc', ['-a', 's'], { cwd: base });
    await pollUntil('ALRM', () => events(dir).includes('ALRM'));
    await ours('svc', ['-i', 's'], { cwd: base });
    await pollUntil('INT', () => events(dir).includes('INT'));
    expect(events(dir)).toEqual(['HUP', 'ALRM', 'INT']);

    await ours('svc', ['-p', 's'], { cwd: base });
    await pollUntil('child stopped', () => procState(pid) === 'T');
    await pollUntil('paused byte', () => readStatus(dir)?.paused);
    expect((await ours('svstat', ['s'], { cwd: base })).stdout).toMatch(/^s: up \(pid \d+\) \d+ seconds, paused\n$/);
    await ours('svc', ['-c', 's'], { cwd: base });
    await pollUntil('CONT', () => events(dir).includes('CONT'));
    expect(procState(pid)).not.toBe('T');
    expect(readStatus(dir)!.paused).toBe(false);
    expect(readStatus(dir)!.pid).toBe(pid);
  });

  it('svc -t and -k end the child and it is restarted; -d sends TERM then CONT and keeps it down', async () => {
    const base = tempDir();
    const dir = recordingService(path.join(base, 's'));
    startSupervise(dir);
    const first = await waitUp(dir);
    await ours('svc', ['-t', 's'], { cwd: base });
    await pollUntil('TERM', () => events(dir).includes('TERM'));
    const second = await pollUntil('restart after -t', () => {
      const st = readStatus(dir);
      return st && st.pid !== 0 && st.pid !== first ? st.pid : undefined;
    });
    await waitUp(dir);
    await ours('svc', ['-k', 's'], { cwd: base });
    await pollUntil('restart after -k', () => {
      const st = readStatus(dir);
      return st && st.pid !== 0 && st.pid !== second ? st.pid : undefined;
    });
    await waitUp(dir);
    await pollUntil('third start recorded', () => starts(dir).length >= 3);
    expect(starts(dir).length).toBe(3);
    writeFileSync(path.join(dir, 'events'), '');
    await ours('svc', ['-d', 's'], { cwd: base });
    await pollUntil('down', () => readStatus(dir)?.pid === 0);
    expect(events(dir)).toEqual(['TERM']);
    const st = readStatus(dir)!;
    expect(st.want).toBe('down');
    expect(st.paused).toBe(false);
    expect((await ours('svstat', ['s'], { cwd: base })).stdout).toMatch(/^s: down \d+ seconds, normally up\n$/);
    expect(starts(dir).length).toBe(3);
  });

  it('svc -o runs once (want byte 0, no restart), -u brings it back, -x exits once the child is down', async () => {
    const base = tempDir();
    const dir = recordingService(path.join(base, 's'), { down: true });
    const sup = startSupervise(dir);
    await pollUntil('status', () => readStatus(dir));
    expect(readStatus(dir)).toMatchObject({ pid: 0, want: 'down' });
    expect((await ours('svstat', ['s'], { cwd: base })).stdout).toMatch(/^s: down \d+ seconds\n$/);
    await ours('svc', ['-o', 's'], { cwd: base });
    const pid = await waitUp(dir);
    expect(readStatus(dir)!.want).toBe('none');
    expect((await ours('svstat', ['s'], { cwd: base })).stdout).toMatch(/^s: up \(pid \d+\) \d+ seconds, normally down\n$/);
    await ours('svc', ['-k', 's'], { cwd: base });
    await pollUntil('down after once', () => readStatus(dir)?.pid === 0);
    expect(starts(dir)).toEqual([pid]);
    await ours('svc', ['-u', 's'], { cwd: base });
    const again = await waitUp(dir);
    expect(readStatus(dir)!.want).toBe('up');
    await ours('svc', ['-x', 's'], { cwd: base });
    await pollUntil('x flag announced', () => readStatus(dir) !== undefined);
    // The child still runs: alive, and not a zombie (Z) or dead (X) in /proc/PID/stat.
    expect(procState(again)).toMatch(/^[RSD]$/);
    await ours('svc', ['-t', 's'], { cwd: base });
    expect(await sup.exited).toEqual({ code: 0, signal: null });
    expect(readStatus(dir)!.pid).toBe(0);
    expect(starts(dir)).toEqual([pid, again]);
    expect((await ours('svok', ['s'], { cwd: base })).code).toBe(100);
    expect((await ours('svstat', ['s'], { cwd: base })).stdout).toBe('s: supervise not running\n');
  });

  it('restarts a crashing run about once a second', async () => {
    const base = tempDir();
    const dir = path.join(base, 'crash');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'run'), '#!/bin/sh\ndate +%s.%N >> times\nexit 1\n');
    chmodSync(path.join(dir, 'run'), 0o755);
    startSupervise(dir);
    const times = await pollUntil('four starts', () => {
      try {
        const t = readFileSync(path.join(dir, 'times'), 'utf8').split('\n').filter(Boolean).map(Number);
        return t.length >= 4 ? t : undefined;
      } catch {
        return undefined;
      }
    });
    for (let i = 1; i < 4; i++) {
      const gap = times[i]! - times[i - 1]!;
      expect(gap).toBeGreaterThan(0.9);
      expect(gap).toBeLessThan(1.8);
    }
  });

  it('a missing or non-executable run is reported as 0.76 does and retried', async () => {
    const base = tempDir();
    const dir = path.join(base, 'norun');
    mkdirSync(dir);
    const sup = startSupervise(dir);
    await pollUntil('two failures', () => sup.stderr().split('\n').filter(Boolean).length >= 2);
    expect(sup.stderr().split('\n')[0]).toBe('supervise: fatal: unable to start norun/run: file does not exist');
    writeFileSync(path.join(dir, 'run'), '#!/bin/sh\nexec sleep 100\n', { mode: 0o644 });
    await pollUntil('access denied', () => sup.stderr().includes('supervise: fatal: unable to start norun/run: access denied\n'));
    chmodSync(path.join(dir, 'run'), 0o755);
    await pollUntil('up at last', () => readStatus(dir)!.pid !== 0);
  });

  it('a second supervise on the same directory is refused with 0.76 text and 111', async () => {
    const base = tempDir();
    const dir = recordingService(path.join(base, 'svc1'));
    startSupervise(dir);
    await waitUp(dir);
    const r = await ours('supervise', ['svc1'], { cwd: base });
    expect(r.stderr).toBe('supervise: fatal: unable to acquire svc1/supervise/lock: temporary failure\n');
    expect(r.code).toBe(111);
  });

  it('usage and missing directory', async () => {
    const base = tempDir();
    const u = await ours('supervise', [], { cwd: base });
    expect([u.stderr, u.code]).toEqual(['supervise: usage: supervise dir\n', 100]);
    const u2 = await ours('supervise', ['a', 'b'], { cwd: base });
    expect([u2.stderr, u2.code]).toEqual(['supervise: usage: supervise dir\n', 100]);
    const m = await ours('supervise', ['nonexist'], { cwd: base });
    expect([m.stderr, m.code]).toEqual(['supervise: fatal: unable to chdir to nonexist: file does not exist\n', 111]);
  });
});
