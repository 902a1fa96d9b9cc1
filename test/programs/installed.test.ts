import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useInstalledRuntime } from '../support/installed.js';
import { run, type RunResult } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { itNeeds } from '../support/needs.js';
import { pollUntil, track } from '../support/procs.js';

/**
 * The chain-loaders as installed (ROOT/command wrappers over the package's
 * bundles), against Debian's C programs in /usr/bin where they are installed.
 */

const rt = useInstalledRuntime();
const HAVE_C = ['softlimit', 'setuidgid', 'envdir', 'setlock', 'svc', 'multilog'].every((p) => existsSync(`/usr/bin/${p}`));
const root = process.getuid?.() === 0;

/** PATH finding our installed commands first, or C's. */
const oursPath = () => `${rt.commandDir}:/usr/bin:/bin`;
const C_PATH = '/usr/bin:/bin';

function sh(env: Record<string, string>, argv: string[], input?: string): Promise<RunResult> {
  return run(argv[0]!, argv.slice(1), { env: { LANG: 'C', HOME: '/', ...env }, input, timeoutMs: 60_000 });
}

/** Runs argv (first word a command name found on PATH) with our programs, then with C's. */
async function both(argv: string[], extraEnv: Record<string, string> = {}): Promise<[RunResult, RunResult]> {
  const ours = await sh({ PATH: oursPath(), ...extraEnv }, [path.join(rt.commandDir, argv[0]!), ...argv.slice(1)]);
  const theirs = await sh({ PATH: C_PATH, ...extraEnv }, [`/usr/bin/${argv[0]}`, ...argv.slice(1)]);
  return [ours, theirs];
}

const view = (r: RunResult) => ({ code: r.code, stdout: r.stdout, stderr: r.stderr });

/** A module that logs every Node start (pid and script) to `file`, loaded through NODE_OPTIONS. */
function nodeStartCounter(dir: string): { env: Record<string, string>; starts: () => string[] } {
  const log = path.join(dir, 'node-starts');
  const mod = path.join(dir, 'count.mjs');
  writeFileSync(mod, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, process.pid + ' ' + process.argv[1] + '\\n');\n`);
  return {
    env: { NODE_OPTIONS: `--import ${mod}` },
    starts: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}

const IDIOMS = [['-m', '3000000'], ['-d', '300000'], ['-d', '3000000'], ['-m', '100000000'], ['-a', '50000000'], ['-o', '250'], ['-p', '1']];

describe('installed chain-loaders', { timeout: 180_000 }, () => {
  itNeeds(HAVE_C, 'needs Debian daemontools in /usr/bin')('softlimit idioms before /bin/echo and before setuidgid: same output and exit code as C, limits reach the program', async () => {
    for (const opt of IDIOMS) {
      const [a, b] = await both(['softlimit', ...opt, '/bin/echo', 'ok']);
      expect([opt, view(a)]).toEqual([opt, view(b)]);
      expect(a.code).toBe(0);
      const [ua, ub] = await both(['softlimit', ...opt, 'setuidgid', 'nobody', '/bin/echo', 'ok']);
      expect([opt, view(ua)]).toEqual([opt, view(ub)]);
      const [la, lb] = await both(['softlimit', ...opt, 'setuidgid', 'nobody', '/bin/cat', '/proc/self/limits']);
      expect([opt, view(la)]).toEqual([opt, view(lb)]);
    }
  });

  const HAVE_STRACE = existsSync('/usr/bin/strace');
  const HAVE_PRLIMIT = existsSync('/usr/bin/prlimit') || existsSync('/bin/prlimit');
  itNeeds(HAVE_STRACE && HAVE_PRLIMIT, 'needs strace and util-linux prlimit')('memory limits are never set while Node runs: prlimit(1) sets them after the execve', async () => {
    // A V8 background thread allocating under a memory limit set just before the execve died with "Fatal process
    // out of memory". Every memory limit must now be set by a process that is no longer Node.
    const dir = tempDir();
    const trace = path.join(dir, 'trace');
    for (const tail of [['/bin/echo', 'ok'], ['echo', 'ok'], ['setuidgid', 'nobody', '/bin/echo', 'ok']]) {
      if (tail[0] === 'setuidgid' && !root) continue;
      const r = await sh({ PATH: oursPath() }, ['/usr/bin/strace', '-f', '-qq', '-e', 'trace=prlimit64,setrlimit,execve', '-o', trace, path.join(rt.commandDir, 'softlimit'), '-m', '100000000', '-o', '200', ...tail]);
      expect([tail, r.code, r.stdout]).toEqual([tail, 0, 'ok\n']);
      const lines = readFileSync(trace, 'utf8').split('\n');
      // Per process: the last program it exec'd, when it set a memory limit.
      const image = new Map<string, string>();
      const setters: string[] = [];
      for (const l of lines) {
        const pid = l.split(' ')[0]!;
        const exec = /execve\("([^"]+)"/.exec(l);
        if (exec && l.endsWith('= 0')) image.set(pid, exec[1]!);
        if (/(prlimit64\(0|setrlimit\()RLIMIT_(AS|DATA|STACK|MEMLOCK|NOFILE), \{/.test(l.replace(', RLIMIT', 'RLIMIT'))) setters.push(image.get(pid) ?? '?');
      }
      expect(setters.length, `${tail[0]}: ${lines.join('\n')}`).toBeGreaterThanOrEqual(4);
      expect(new Set(setters), tail[0]).toEqual(new Set([expect.stringMatching(/\/prlimit$/)]));
    }
  });

  itNeeds(HAVE_C && root, 'needs Debian daemontools in /usr/bin and root')('softlimit -p before setuidgid: exec refused exactly when C\'s is (the account\'s other processes counted)', async () => {
    const account = 'games';
    for (const others of [0, 2, 3]) {
      const sleepers: ReturnType<typeof spawn>[] = [];
      for (let i = 0; i < others; i++) {
        const c = spawn('/usr/bin/setuidgid', [account, 'sleep', '60'], { stdio: 'ignore' });
        track(c.pid!);
        sleepers.push(c);
      }
      await pollUntil('sleepers', () => (sleepers.every((c) => readFileSync(`/proc/${c.pid}/status`, 'utf8').includes('\nUid:\t5\t')) ? true : undefined));
      for (const tail of [['/bin/echo', 'ok'], ['envdir', tempDir(), '/bin/echo', 'ok']]) {
        const [a, b] = await both(['softlimit', '-p', '2', 'setuidgid', account, ...tail]);
        expect([others, tail[0], view(a)]).toEqual([others, tail[0], view(b)]);
      }
      for (const c of sleepers) c.kill('SIGKILL');
    }
  });

  itNeeds(HAVE_C, 'needs Debian daemontools in /usr/bin')('a chain runs in one process and one Node start, with C\'s result', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'E'));
    writeFileSync(path.join(dir, 'E', 'GREETING'), 'hello\n');
    const count = nodeStartCounter(dir);
    const user = root ? ['setuidgid', 'nobody'] : [];
    const argv = ['envdir', path.join(dir, 'E'), ...user, 'softlimit', '-m', '100000000', 'pgrphack', 'sh', '-c', 'echo "$GREETING $(id -u)"; grep "Max address space" /proc/$$/limits'];
    const [a, b] = await both(argv, count.env);
    expect(view(a)).toEqual(view(b));
    expect(a.stdout).toMatch(/^hello \d+\nMax address space\s+100000000 /);
    expect(count.starts()).toHaveLength(1);

    // Same PID throughout: the program is the process the caller started.
    const pidFile = path.join(dir, 'pid');
    const child = spawn(path.join(rt.commandDir, 'envdir'), [path.join(dir, 'E'), 'softlimit', '-o', '200', 'setlock', path.join(dir, 'lock'), 'sh', '-c', `echo $$ > ${pidFile}`], {
      env: { PATH: oursPath() },
      stdio: 'ignore',
    });
    track(child.pid!);
    await new Promise((res) => child.on('close', res));
    expect(Number(readFileSync(pidFile, 'utf8'))).toBe(child.pid);
  });

  itNeeds(HAVE_C, 'needs Debian daemontools in /usr/bin')('messages and exit codes of a link run in process are the C program\'s', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'E'));
    writeFileSync(path.join(dir, 'E', 'A'), 'a\n');
    writeFileSync(path.join(dir, 'noexec'), '#!/bin/sh\n', { mode: 0o644 });
    const cases: string[][] = [
      ['envdir', path.join(dir, 'E'), 'envdir', '/nonexistent/env', 'true'],
      ['envdir', path.join(dir, 'E'), 'softlimit', '-q', 'true'],
      ['envdir', path.join(dir, 'E'), 'softlimit', '-o'],
      ['envdir', path.join(dir, 'E'), 'softlimit', '-o', '12x', 'true'],
      ['softlimit', '-o', '50', 'setuidgid', 'djbpkg-no-such-user', 'true'],
      ['softlimit', '-o', '50', 'envuidgid', 'root', 'sh', '-c', 'echo $UID $GID'],
      ['softlimit', '-o', '50', 'setlock', '-n', '/nonexistent/lock', 'true'],
      ['softlimit', '-o', '50', 'setlock', '-nx', '/nonexistent/lock', 'true'],
      ['softlimit', '-t', '=', 'pgrphack'],
      ['softlimit', '-t', '=', 'djbpkg-no-such-program'],
      ['softlimit', '-m', '3000000', 'envdir', path.join(dir, 'E'), 'djbpkg-no-such-program'],
      ['softlimit', '-t', '=', path.join(dir, 'noexec')],
      ['softlimit', '-o', '4', 'envdir', path.join(dir, 'E'), '/bin/echo', 'ok'],
      ['softlimit', '-o', '5', 'envdir', path.join(dir, 'E'), '/bin/echo', 'ok'],
      ['softlimit', '-o', '6', 'envdir', path.join(dir, 'E'), '/bin/echo', 'ok'],
    ];
    for (const argv of cases) {
      const [a, b] = await both(argv);
      expect([argv, view(a)]).toEqual([argv, view(b)]);
    }
  });

  itNeeds(HAVE_C, 'needs Debian daemontools in /usr/bin')('getopt as 0.76: any word starting with -- ends the options', async () => {
    const cases: string[][] = [
      ['svc', '--help', '/nonexistent'],
      ['svc', '-:', '/nonexistent'],
      ['softlimit', '--x', '/bin/echo', 'ok'],
      ['softlimit', '-o', '20', '--', '/bin/echo', 'ok'],
      ['softlimit', '-o20', '-', '/bin/echo'],
      ['softlimit', '-o', '--x', '/bin/echo'],
      ['setlock', '--foo', path.join(tempDir(), 'l'), '/bin/echo', 'hi'],
      ['setlock', '-nX', '--', path.join(tempDir(), 'l'), '/bin/echo', 'hi'],
    ];
    for (const argv of cases) {
      const [a, b] = await both(argv);
      expect([argv, view(a)]).toEqual([argv, view(b)]);
    }
  });

  itNeeds(HAVE_C, 'needs Debian daemontools in /usr/bin')('a chain ending in multilog runs multilog in the same process, not under the memory limit', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'E'));
    writeFileSync(path.join(dir, 'E', 'X'), 'x\n');
    const count = nodeStartCounter(dir);
    const logdir = path.join(dir, 'main');
    const r = await sh({ PATH: oursPath(), ...count.env }, [rt.command('envdir'), path.join(dir, 'E'), 'softlimit', '-m', '50000000', '-c', '0', 'multilog', 't', logdir], 'one\ntwo\n');
    expect(view(r)).toEqual({ code: 0, stdout: '', stderr: '' });
    const lines = readFileSync(path.join(logdir, 'current'), 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => l.replace(/^@[0-9a-f]{24} /, ''))).toEqual(['one', 'two']);
    expect(count.starts()).toHaveLength(1);
    // multilog's usage from the chain is multilog's own.
    const [a, b] = await both(['envdir', path.join(dir, 'E'), 'multilog']);
    expect(view(a)).toEqual(view(b));
  });

  itNeeds(root, 'needs root to run setuidgid nobody')('the usual log/run, `setuidgid nobody multilog t ./main`, runs multilog in the same process and its files are the account\'s', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const count = nodeStartCounter(dir);
    const main = path.join(dir, 'nobody-main');
    mkdirSync(main);
    chownSync(main, 65534, 65534);
    const n = await sh({ PATH: oursPath(), ...count.env }, [rt.command('setuidgid'), 'nobody', 'multilog', 't', main], 'three\n');
    expect(view(n)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(path.join(main, 'current'), 'utf8')).toMatch(/^@[0-9a-f]{24} three\n$/);
    expect(statSync(path.join(main, 'current')).uid).toBe(65534);
    expect(count.starts()).toHaveLength(1);
  });

  itNeeds(HAVE_C && existsSync('/usr/bin/fghack'), 'needs Debian daemontools in /usr/bin, fghack included')('fghack in a chain: its child gets the lock, the pipe copies and the limits as C\'s, Node never under them', async () => {
    const dir = tempDir();
    const count = nodeStartCounter(dir);
    // ls into a file: no pipeline, so the shell holds no pipe of its own while ls looks.
    const fds = path.join(dir, 'fds');
    const script = `ls /proc/$$/fd > ${fds}; grep "Max address space" /proc/$$/limits; (sleep 0.2; echo background done) & exit 3`;
    const args = [path.join(dir, 'lock'), 'softlimit', '-m', '100000000', 'fghack', 'sh', '-c', script];
    const listed = () => readFileSync(fds, 'utf8').split('\n').filter(Boolean).map(Number).sort((x, y) => x - y);
    const a = await sh({ PATH: oursPath(), ...count.env }, [rt.command('setlock'), ...args]);
    const ourFds = listed();
    const b = await sh({ PATH: C_PATH }, ['/usr/bin/setlock', ...args]);
    expect(view(a)).toEqual(view(b));
    expect(a.code).toBe(3);
    expect(a.stdout).toMatch(/^Max address space\s+100000000 [^]*background done\n$/);
    // 0-2, the lock and the 31 copies of fghack's pipe, at the numbers C's child has them.
    expect(ourFds).toEqual(listed());
    expect(ourFds.length).toBeGreaterThanOrEqual(35);
    // The chain's process and fghack's child: two Node starts, none under the limit.
    expect(count.starts()).toHaveLength(2);
  });

  it('only this very runtime runs in process: another package\'s copy of the same program is exec\'d', async () => {
    const dir = tempDir();
    const count = nodeStartCounter(dir);
    const other = path.join(dir, 'package', 'admin', 'other');
    mkdirSync(path.join(other, 'command'), { recursive: true });
    mkdirSync(path.join(other, 'runtime'));
    for (const f of ['package.json', 'pgrphack.js']) writeFileSync(path.join(other, 'runtime', f), readFileSync(path.join(rt.packageDir, 'runtime', f)));
    symlinkSync(path.join(rt.packageDir, 'runtime', 'node_modules'), path.join(other, 'runtime', 'node_modules'));
    writeFileSync(path.join(other, 'command', 'pgrphack'), readFileSync(rt.command('pgrphack')), { mode: 0o755 });
    const r = await sh({ PATH: `${path.join(other, 'command')}:${oursPath()}`, ...count.env }, [rt.command('pgrphack'), 'pgrphack', 'sh', '-c', 'echo $$']);
    expect(r.code).toBe(0);
    const starts = count.starts();
    expect(starts).toHaveLength(2);
    expect(starts[1]).toContain(path.join(other, 'runtime', 'pgrphack.js'));
    // Through the installed one, the same chain is one start.
    const one = nodeStartCounter(tempDir());
    expect((await sh({ PATH: oursPath(), ...one.env }, [rt.command('pgrphack'), 'pgrphack', 'true'])).code).toBe(0);
    expect(one.starts()).toHaveLength(1);
  });
});
