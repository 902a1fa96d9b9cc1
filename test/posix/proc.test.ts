import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProcStat, processRunning, processStartTime, procStat } from '../../src/posix/index.js';
import { pollUntil, startProcess } from '../support/procs.js';
import { PROJECT } from '../support/run.js';

/**
 * /proc/PID/stat has one parser, src/posix/proc.ts; every check of "is this
 * process still the one we recorded" (supervise's adoption, the log host's
 * placeholder check before it opens /proc/PID/fd/0) goes through it, and a
 * zombie counts as exited there.
 */

describe('/proc/PID/stat', () => {
  it('parses a command name holding spaces and parentheses', () => {
    const text = '4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654321 1000 100 18446744073709551615\n';
    expect(parseProcStat(text)).toEqual({ state: 'S', ppid: 1, pgrp: 4242, session: 4242, start: 987654321n });
    expect(parseProcStat('4242 (x) S 1 2')).toBeUndefined();
    expect(parseProcStat('')).toBeUndefined();
  });

  it('reads this process: running, its own session and start time', () => {
    const me = procStat(process.pid);
    expect(me?.ppid).toBe(process.ppid);
    expect(me?.state).not.toBe('Z');
    expect(processRunning(process.pid)).toBe(true);
    expect(processStartTime(process.pid)).toBe(me?.start);
    expect(procStat(0)).toBeUndefined();
    expect(procStat(-1)).toBeUndefined();
  });

  it('a zombie (exited, never reaped) has no start time and is not running', async () => {
    // sh starts `true` in the background, prints its pid, then becomes sleep, which never reaps it.
    const p = startProcess('/bin/sh', ['-c', 'true & echo $!; exec sleep 60']);
    const zombie = await pollUntil('the background pid', () => {
      const line = p.stdout().split('\n')[0];
      return line !== undefined && /^\d+$/.test(line) ? Number(line) : undefined;
    });
    await pollUntil('the zombie', () => procStat(zombie)?.state === 'Z', { timeoutMs: 20_000 });
    expect(procStat(zombie)?.ppid).toBe(p.pid);
    expect(processStartTime(zombie)).toBeUndefined();
    expect(processRunning(zombie)).toBe(false);
    // The parent itself is live and keeps its recorded start time.
    expect(processStartTime(p.pid)).toBe(procStat(p.pid)?.start);
  });

  it('a gone pid has nothing', async () => {
    const p = startProcess('/bin/true', []);
    await p.exited;
    expect(procStat(p.pid)).toBeUndefined();
    expect(processStartTime(p.pid)).toBeUndefined();
    expect(processRunning(p.pid)).toBe(false);
  });

  it('is read by src/posix/proc.ts only', () => {
    const readers: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const file = path.join(dir, name);
        if (statSync(file).isDirectory()) walk(file);
        else if (name.endsWith('.ts') && /\/stat[`'"]/.test(readFileSync(file, 'utf8'))) readers.push(path.relative(PROJECT, file));
      }
    };
    walk(path.join(PROJECT, 'src'));
    expect(readers).toEqual(['src/posix/proc.ts']);
  });
});
