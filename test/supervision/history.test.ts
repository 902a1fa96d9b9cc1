import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashLooping, emptyHistory, noteExit, noteStart, packHistory, readHistory, unpackHistory } from '../../src/supervision/history.js';
import { STATUS_BYTES } from '../../src/supervision/status.js';
import { readWarnings, recordWarning, WARNING_LINES } from '../../src/supervision/warnings.js';
import { pollUntil } from '../support/procs.js';
import { tempDir } from '../support/tmp.js';
import { ours, readStatus, startSupervise } from '../support/supervise.js';

/** supervise/history, notification-fd and a logger's supervise/warnings, under a standalone `supervise DIR`. */

function service(dir: string, script: string, extra: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'run'), `#!/bin/sh\n${script}\n`);
  chmodSync(path.join(dir, 'run'), 0o755);
  for (const [k, v] of Object.entries(extra)) writeFileSync(path.join(dir, k), v);
  return dir;
}

describe('supervise/history', () => {
  it('the crash-loop rule: three runs under 5 s within 60 s, until a run has stayed up 5 s', () => {
    const h = emptyHistory(0);
    let t = 1_000_000;
    for (let i = 0; i < 3; i++) {
      noteStart(h, t, 0);
      noteExit(h, t + 10, 'code 1');
      t += 1000;
    }
    noteStart(h, t, 0);
    expect(crashLooping(h, t + 100, t)).toBe(true);
    expect(crashLooping(h, t + 4999, t)).toBe(true);
    expect(crashLooping(h, t + 5000, t)).toBe(false);
    expect(crashLooping(h, t + 100, 0)).toBe(true);
    // A minute later the short runs are forgotten.
    expect(crashLooping(h, t + 61_000, 0)).toBe(false);
    expect(unpackHistory(packHistory(h))).toEqual(h);
    expect(h.runs).toBe(4);
    expect(h.exit).toBe('code 1');
  });

  it('a standalone supervise records runs, the last exit (code and signal) and short runs; status stays 18 bytes and svstat unchanged', async () => {
    const base = tempDir();
    const dir = service(path.join(base, 'crash'), 'exit 3');
    startSupervise(dir);
    const h = await pollUntil('three runs', () => {
      const x = readHistory(path.join(dir, 'supervise'));
      return x && x.runs >= 3 && x.exited > 0 ? x : undefined;
    });
    expect(h.exit).toBe('code 3');
    expect(h.short.length).toBeGreaterThanOrEqual(2);
    expect(h.lasted).toBeLessThan(5000);
    expect(readFileSync(path.join(dir, 'supervise/status')).length).toBe(STATUS_BYTES);
    expect((statSync(path.join(dir, 'supervise/history')).mode & 0o777).toString(8)).toBe('644');
    const r = await ours('svstat', ['crash'], { cwd: base });
    expect(r.stdout).toMatch(/^crash: (up \(pid \d+\)|down) \d+ seconds(, want up)?\n$/);

    const sig = service(path.join(base, 'sig'), 'kill -TERM $$');
    startSupervise(sig);
    const hs = await pollUntil('a run killed by TERM', () => {
      const x = readHistory(path.join(sig, 'supervise'));
      return x && x.exited > 0 ? x : undefined;
    });
    expect(hs.exit).toBe('signal TERM');
  });

  it('notification-fd: ready is recorded when the run writes a newline on that fd; svstat says nothing of it', async () => {
    const base = tempDir();
    const dir = service(path.join(base, 'r'), 'sleep 1; echo >&5; exec sleep 1000', { 'notification-fd': '5\n' });
    startSupervise(dir);
    const pid = await pollUntil('up', () => readStatus(dir)?.pid || undefined);
    const h0 = readHistory(path.join(dir, 'supervise'))!;
    expect(h0.readyFd).toBe(5);
    const h = await pollUntil('ready', () => {
      const x = readHistory(path.join(dir, 'supervise'));
      return x && x.ready > 0 ? x : undefined;
    });
    expect(h.ready - h.started).toBeGreaterThanOrEqual(900);
    expect(readStatus(dir)!.pid).toBe(pid);
    expect((await ours('svstat', ['r'], { cwd: base })).stdout).toMatch(/^r: up \(pid \d+\) \d+ seconds\n$/);

    // A bad notification-fd is one warning line and no readiness; the service runs all the same.
    const bad = service(path.join(base, 'bad'), 'exec sleep 1000', { 'notification-fd': '1\n' });
    const sup = startSupervise(bad);
    await pollUntil('bad up', () => readStatus(bad)?.pid || undefined);
    await pollUntil('warning', () => sup.stderr().includes('notification-fd must hold a descriptor number from 3 to 255, not "1"'));
    expect(readHistory(path.join(bad, 'supervise'))!.readyFd).toBe(0);
  });

  it("a logger's stderr is passed on and kept, last 20 lines, control characters shown as ?", async () => {
    const base = tempDir();
    const dir = service(path.join(base, 'svc', 'log'), `i=0; while [ $i -lt 30 ]; do i=$((i+1)); printf 'warn %s \\033[2J\\n' $i >&2; done; exec sleep 1000`);
    const sup = startSupervise(dir);
    const lines = await pollUntil('30 warnings kept as 20', () => {
      const w = readWarnings(path.join(dir, 'supervise'));
      return w.at(-1)?.endsWith('warn 30 ?[2J') ? w : undefined;
    });
    expect(lines.length).toBe(WARNING_LINES);
    expect(lines[0]).toMatch(/^@[0-9a-f]{24} warn 11 \?\[2J$/);
    await pollUntil('passed on to stderr', () => sup.stderr().includes('warn 30 \x1b[2J\n'));
    expect(sup.stderr()).toContain('warn 1 \x1b[2J\n');
  });

  it("a logger's run taken over by a new supervise (the old one was killed) keeps its stderr read and recorded", async () => {
    const base = tempDir();
    const dir = service(path.join(base, 'svc', 'log'), `trap 'echo got-hup >&2' HUP; echo started >&2; while :; do sleep 0.2; done`);
    const first = startSupervise(dir);
    const pid = await pollUntil('up', () => readStatus(dir)?.pid || undefined);
    await pollUntil('first line kept', () => readWarnings(path.join(dir, 'supervise')).some((l) => l.endsWith(' started')));
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    const second = startSupervise(dir);
    await pollUntil('second supervise answers', async () => (await ours('svok', [dir])).code === 0);
    expect(readStatus(dir)!.pid).toBe(pid);
    expect((await ours('svc', ['-h', dir])).code).toBe(0);
    await pollUntil('line from the adopted run kept', () => readWarnings(path.join(dir, 'supervise')).some((l) => l.endsWith(' got-hup')));
    await pollUntil('and passed on', () => second.stderr().includes('got-hup\n'));
    expect(readStatus(dir)!.pid).toBe(pid);
  });

  it('recordWarning keeps the last lines and never follows a link at warnings.new', () => {
    const dir = tempDir();
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'safe\n');
    symlinkSync(victim, path.join(dir, 'warnings.new'));
    symlinkSync(victim, path.join(dir, 'warnings'));
    recordWarning(dir, 'first\n\nsecond');
    expect(readFileSync(victim, 'utf8')).toBe('safe\n');
    expect(readWarnings(dir).map((l) => l.slice(26))).toEqual(['first', 'second']);
    for (let i = 0; i < 30; i++) recordWarning(dir, `line ${i}`);
    expect(readWarnings(dir).length).toBe(WARNING_LINES);
    expect(readWarnings(dir).at(-1)!.slice(26)).toBe('line 29');
  });
});
