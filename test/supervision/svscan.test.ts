import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pollUntil, startProcess } from '../support/procs.js';
import { tempDir } from '../support/tmp.js';
import { bin, ours, readStatus, SLEEP, recordingService, startSupervise, waitUp } from '../support/supervise.js';

const FAST = { DJBPKG_SVSCAN_INTERVAL_MS: '200' };

function startSvscan(dir: string, env: Record<string, string> = FAST) {
  return startProcess(process.execPath, [bin('svscan'), dir], { env });
}

/** svscan's stderr without its start-up line about the descriptor limit. */
function withoutInfo(text: string): string {
  return text.replace(/^svscan: info: descriptor limit \d+ leaves room for \d+ services, or \d+ with a logger\n/, '');
}

function script(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

describe('svscan', () => {
  it('starts existing and new directories within a scan, skips dot-directories, restarts a supervise after svc -x', async () => {
    const root = tempDir();
    const a = recordingService(path.join(root, 'a'));
    const scan = startSvscan(root);
    await waitUp(a);
    const hidden = recordingService(path.join(root, '.hidden'));
    const b = recordingService(path.join(root, 'b'));
    await waitUp(b);
    const envFile = path.join(root, 'env');
    const c = path.join(root, 'c');
    mkdirSync(c);
    script(path.join(c, 'run'), `#!/bin/sh\nenv > ${envFile}\nexec ${SLEEP} 1000\n`);
    await pollUntil('c ran', () => existsSync(envFile) && readFileSync(envFile, 'utf8').includes('PATH='));
    expect(readFileSync(envFile, 'utf8')).not.toContain('DJBPKG_SVSCAN_INTERVAL_MS');
    expect(existsSync(path.join(hidden, 'supervise'))).toBe(false);

    const aPid = readStatus(a)!.pid;
    await ours('svc', ['-dx', 'a'], { cwd: root });
    await pollUntil('a restarted by the next scan', () => {
      const st = readStatus(a);
      return st && st.pid !== 0 && st.pid !== aPid;
    });
    const r = await ours('svstat', ['a', 'b', '.hidden'], { cwd: root });
    expect(r.stdout).toMatch(/^a: up \(pid \d+\) \d+ seconds\nb: up \(pid \d+\) \d+ seconds\n\.hidden: unable to open supervise\/ok: file does not exist\n$/);
    expect(withoutInfo(scan.stderr())).toBe('');
  });

  it('reports a directory already supervised elsewhere as supervise would, and keeps scanning', async () => {
    const root = tempDir();
    const a = recordingService(path.join(root, 'a'));
    startSupervise(a);
    await waitUp(a);
    const scan = startSvscan(root);
    await pollUntil('lock message twice', () => withoutInfo(scan.stderr()).split('\n').filter(Boolean).length >= 2);
    expect(withoutInfo(scan.stderr()).split('\n')[0]).toBe('supervise: fatal: unable to acquire a/supervise/lock: temporary failure');
  });

  it('treats a symlink and its target as one service, decides about log/ once, forgets an entry that is gone', async () => {
    const root = tempDir();
    const away = tempDir();
    const a = recordingService(path.join(root, 'a'));
    symlinkSync('a', path.join(root, 'b-link'));
    const scan = startSvscan(root);
    await waitUp(a);
    /** A new service; once it is up, a whole scan has run since it was made. */
    const marker = async (name: string) => {
      const d = path.join(root, name);
      mkdirSync(d);
      script(path.join(d, 'run'), `#!/bin/sh\nexec ${SLEEP} 1000\n`);
      await pollUntil(`${name} up`, () => (readStatus(d)?.pid ?? 0) !== 0);
    };
    // log/ added after the service was first seen is not noticed...
    recordingService(path.join(a, 'log'));
    await marker('zmark1');
    expect(existsSync(path.join(a, 'log/supervise'))).toBe(false);
    // ...until the entry is forgotten: moved out of the scanned dir and stopped, then moved back.
    renameSync(a, path.join(away, 'a'));
    await ours('svc', ['-dx', path.join(away, 'a')]);
    await pollUntil('moved supervise gone', async () => (await ours('svok', [path.join(away, 'a')])).code === 100);
    await marker('zmark2');
    renameSync(path.join(away, 'a'), a);
    await waitUp(path.join(a, 'log'));
    await waitUp(a);
    // One supervisor for a and b-link (a second would have hit the lock); b-link dangled while a was away.
    for (const line of withoutInfo(scan.stderr()).split('\n').filter(Boolean)) {
      expect(line).toBe('svscan: warning: unable to stat b-link: file does not exist');
    }
    expect(existsSync(path.join(root, 'b-link/supervise/status'))).toBe(true);
  });

  it('refuses services beyond 1000 with the 0.76 warning', async () => {
    const root = tempDir();
    for (let i = 0; i < 1001; i++) {
      mkdirSync(path.join(root, `d${i}`));
      writeFileSync(path.join(root, `d${i}`, 'down'), '');
    }
    const scan = startSvscan(root);
    const line = await pollUntil('too many', () => scan.stderr().split('\n').find((l) => l.includes('too many')));
    expect(line).toMatch(/^svscan: warning: unable to start d\d+: running too many services$/);
  });

  it('fails on a missing directory with the 0.76 text', async () => {
    const r = await ours('svscan', ['nonexist'], { cwd: tempDir() });
    expect([r.stderr, r.code]).toEqual(['svscan: fatal: unable to chdir to nonexist: file does not exist\n', 111]);
  });

  it('keeps every line when the logger is restarted 50 times', async () => {
    const root = tempDir();
    const svc = path.join(root, 'w');
    mkdirSync(path.join(svc, 'log'), { recursive: true });
    script(
      path.join(svc, 'run'),
      '#!/bin/sh\ni=0\nwhile :; do i=$((i+1)); echo $i; echo $i > last.new; mv last.new last; sleep 0.005; done\n',
    );
    // A logger that writes every chunk it has read before it acts on TERM.
    script(
      path.join(svc, 'log/run'),
      `#!${process.execPath}\nconst fs = require('fs');\nprocess.on('SIGTERM', () => process.exit(0));\nprocess.stdin.on('data', (d) => fs.appendFileSync('lines', d));\n`,
    );
    startSvscan(root);
    const logDir = path.join(svc, 'log');
    let previous = await pollUntil('logger up', () => readStatus(logDir)?.pid || undefined);
    for (let n = 0; n < 50; n++) {
      await ours('svc', ['-t', 'w/log'], { cwd: root });
      previous = await pollUntil(`logger restart ${n + 1}`, () => {
        const st = readStatus(logDir);
        return st && st.pid !== 0 && st.pid !== previous ? st.pid : undefined;
      });
    }
    await ours('svc', ['-d', 'w'], { cwd: root });
    await pollUntil('writer down', () => readStatus(svc)?.pid === 0);
    const last = Number(readFileSync(path.join(svc, 'last'), 'utf8'));
    const lines = await pollUntil('logger caught up', () => {
      const got = readFileSync(path.join(logDir, 'lines'), 'utf8').split('\n').filter(Boolean).map(Number);
      return got.length > 0 && got[got.length - 1]! >= last ? got : undefined;
    });
    expect(lines.length).toBeGreaterThan(100);
    expect(lines).toEqual(lines.map((_, i) => i + 1));
    expect([last, last + 1]).toContain(lines.length);
  }, 120_000);

  it('keeps 200 services up under one svscan process', async () => {
    const root = tempDir();
    for (let i = 0; i < 200; i++) {
      const d = path.join(root, `s${i}`);
      mkdirSync(d);
      script(path.join(d, 'run'), `#!/bin/sh\nexec ${SLEEP} 1000\n`);
    }
    const scan = startSvscan(root);
    const names = Array.from({ length: 200 }, (_, i) => `s${i}`);
    await pollUntil('200 up', () => names.every((n) => (readStatus(path.join(root, n))?.pid ?? 0) !== 0), { timeoutMs: 30_000 });
    const r = await ours('svstat', names, { cwd: root });
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBe(200);
    for (const l of lines) expect(l).toMatch(/^s\d+: up \(pid \d+\) \d+ seconds$/);
    const pids = new Set(names.map((n) => readStatus(path.join(root, n))!.pid));
    expect(pids.size).toBe(200);
    expect(withoutInfo(scan.stderr())).toBe('');
  }, 60_000);
});
