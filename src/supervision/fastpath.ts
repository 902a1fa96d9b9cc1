import { closeSync, constants, fstatSync, openSync, opendirSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { RLIMIT, type Rlimit } from '../posix/index.js';
import { prlimitWords, setprivWords, utilLinux } from '../posix/utillinux.js';
import { ourProgram, ownDir, resolveExec } from './chain.js';
import { dep, lookupAccount, ownLimit, recording, unchanged, type PlanDeps } from './plandeps.js';
import { getopt } from '../djb/getopt.js';
import { applyEnvEdits, type EnvEdit } from '../djb/pathexec.js';
import { parsePlainScript } from './runscript.js';
import { envdirValue, parseLimit, RESOURCES } from './loader-rules.js';

/**
 * supervise's fast path: what `sh ./run` followed by our chain-loaders would
 * do, worked out in supervise itself, so that the final program can be
 * started directly as supervise's child without a shell or a Node start.
 *
 * planRun() reads `./run` and, when it is a plain exec script whose leading
 * words are our loaders (found through PATH as sh would find them), replays
 * each loader's work without doing it: the environment it would hand on, the
 * user it would become, the limits it would set, whether it would start a
 * session. Anything it cannot replay exactly (a loader that would fail, a
 * loader it does not handle, a user change before an envdir, ...) gives
 * undefined with the reason, and supervise runs `./run` as before, which
 * then prints 0.76's message itself.
 */
export interface FastPlan {
  /** The file to execve (as pathexec would find it). */
  file: string;
  /** argv, argv[0] as the last loader passed it. */
  argv: string[];
  /** The program's environment, NAME=VALUE. */
  environ: string[];
  /** setuidgid's account, if any. */
  user?: { uid: number; gid: number };
  /** Limits softlimit would set (resource, value), in the order set. */
  limits: [number, Rlimit][];
  /** pgrphack: a new session. */
  setsid: boolean;
  /** `exec 2>&1` in the script. */
  stderrToStdout: boolean;
  /**
   * What runs before the program (util-linux setpriv for the user, prlimit for
   * the limits; empty without either), ending in `--`: the program is then
   * exec'd by execvp of argv[0] (see src/posix/utillinux.ts).
   */
  via: string[];
}

export type PlanResult = { plan: FastPlan } | { reason: string };

/** The loaders the fast path replays. */
const REPLAYED = new Set(['envdir', 'envuidgid', 'setuidgid', 'softlimit', 'pgrphack']);
/** Every program of ours a chain runs in its own process: any of these not replayed means the normal path. */
const OURS = new Set([...REPLAYED, 'setlock', 'fghack', 'multilog', 'supervise', 'svscan', 'readproctitle']);

class NoFastPath extends Error {}
const no = (why: string): never => {
  throw new NoFastPath(why);
};

/** The PWD dash exports for a script run in `dir`: the inherited PWD when it names that directory, else its real path. */
function dashPwd(env: NodeJS.ProcessEnv, dir: string): string {
  dep(dir);
  const real = realpathSync(dir);
  const pwd = env.PWD;
  if (pwd !== undefined && pwd.startsWith('/')) {
    dep(pwd);
    try {
      const a = statSync(pwd);
      const b = statSync(dir);
      if (a.dev === b.dev && a.ino === b.ino) return pwd;
    } catch {
      // not usable: getcwd's answer, as dash
    }
  }
  return real;
}

/** The environment the chain's first loader starts with: supervise's, as sh hands it on. */
function initialEnviron(env: NodeJS.ProcessEnv, dir: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    // dash keeps only names it could assign; anything else is a doubt.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) no(`environment name ${JSON.stringify(k)}`);
    // Variables dash sets or resets itself.
    if (/^(IFS|PPID|OPTIND|PS1|PS2|PS4|LINENO|ENV)$/.test(k)) no(`environment variable ${k}`);
    if (k === 'PWD') continue;
    out.push(`${k}=${v}`);
  }
  return applyEnvEdits(out, [{ name: 'PWD', value: dashPwd(env, dir) }]);
}

function getenv(environ: readonly string[], name: string): string | undefined {
  const e = environ.find((x) => x.startsWith(name + '='));
  return e === undefined ? undefined : e.slice(name.length + 1);
}

/** envdir's edits, read as envdir reads them (root, before any user change). */
function envdirEdits(serviceDir: string, dirName: string): EnvEdit[] {
  const dir = path.resolve(serviceDir, dirName);
  dep(dir);
  let d;
  try {
    d = opendirSync(dir);
  } catch {
    return no(`envdir ${dirName} unreadable`);
  }
  const edits: EnvEdit[] = [];
  try {
    for (;;) {
      const entry = d.readSync();
      if (entry === null) break;
      const name = entry.name;
      if (name.startsWith('.')) continue;
      if (name.includes('=')) no(`envdir ${dirName}/${name}`);
      let contents: Buffer | undefined;
      let fd: number;
      dep(path.join(dir, name));
      try {
        fd = openSync(path.join(dir, name), constants.O_RDONLY | constants.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          edits.push({ name, value: undefined });
          continue;
        }
        return no(`envdir ${dirName}/${name} unreadable`);
      }
      try {
        if (!fstatSync(fd).isFile()) no(`envdir ${dirName}/${name} is not a file`);
        const chunks: Buffer[] = [];
        for (;;) {
          const buf = Buffer.alloc(4096);
          const n = readSync(fd, buf, 0, buf.length, null);
          if (n === 0) break;
          chunks.push(buf.subarray(0, n));
        }
        contents = Buffer.concat(chunks);
      } finally {
        closeSync(fd);
      }
      edits.push({ name, value: envdirValue(contents) });
    }
  } catch (err) {
    if (err instanceof NoFastPath) throw err;
    return no(`envdir ${dirName} unreadable`);
  } finally {
    d.closeSync();
  }
  return edits;
}

/**
 * Every directory down to `dir` searchable by `uid`/`gid` (mode bits), so
 * that the exec as that user does not fail where root's checks passed.
 */
function searchable(dir: string, uid: number, gid: number, word: string): void {
  for (let d = dir; ; d = path.dirname(d)) {
    dep(d);
    const st = statSync(d);
    const bit = st.uid === uid ? st.mode & 0o100 : st.gid === gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!bit) no(`program ${word} not reachable by the user`);
    if (d === '/') return;
  }
}

/** The first file sh/pathexec would run for `word`, checked to be a program the kernel runs itself. */
function finalFile(word: string, searchPath: string | undefined, serviceDir: string, user: FastPlan['user']): string {
  if (word === '') return no('empty program name');
  const candidates = word.includes('/') ? [word] : (searchPath ?? '/bin:/usr/bin').split(':').map((d) => `${d === '' ? '.' : d}/${word}`);
  for (const c of candidates) {
    const abs = path.resolve(serviceDir, c);
    dep(path.dirname(abs));
    dep(abs);
    let st;
    try {
      st = statSync(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      return no(`program ${word}: ${(err as NodeJS.ErrnoException).code}`);
    }
    if (!st.isFile()) return no(`program ${word} is not a file`);
    // Executable by the user who runs it (mode bits; an ACL or an unsearchable directory shows at the spawn).
    const uid = user?.uid ?? process.getuid!();
    const gid = user?.gid ?? process.getgid!();
    const bits = uid === 0 ? (st.mode & 0o111 ? 1 : 0) : st.uid === uid ? st.mode & 0o100 : st.gid === gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!bits) return no(`program ${word} not executable`);
    if (uid !== 0) searchable(path.dirname(abs), uid, gid, word);
    const fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    try {
      if (!fstatSync(fd).isFile()) no(`program ${word} is not a file`);
      const head = Buffer.alloc(4);
      const n = readSync(fd, head, 0, 4, 0);
      const magic = head.subarray(0, n).toString('latin1');
      // Anything else would fail with ENOEXEC in C, and a shell would run it: left to the normal path.
      if (!magic.startsWith('#!') && magic !== '\x7fELF') no(`program ${word}: not a #! script or ELF`);
    } finally {
      closeSync(fd);
    }
    return c;
  }
  return no(`program ${word} not found`);
}

/**
 * `./run`'s text: a regular file only, opened without blocking (whoever can
 * write the service directory must not be able to hang svscan with a FIFO).
 */
function readScript(file: string): string {
  dep(file);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return no('./run unreadable');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return no('./run is not a regular file');
    if (st.size > 64 * 1024) return no('./run is not a plain exec script');
    if ((st.mode & 0o111) === 0) return no('./run is not executable');
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** The last plan (or reason) per service directory, and what it was worked out from. */
const cache = new Map<string, { env: NodeJS.ProcessEnv; scriptPath: string | undefined; result: PlanResult; deps: PlanDeps }>();

/**
 * The plan for the service directory `dir` (a path supervise can open), or
 * why there is none. The previous answer for `dir` is reused while nothing
 * it was worked out from has changed (see plandeps.ts): a restart then costs
 * a few stat calls instead of reading ./run, the env directory, the loaders
 * and the accounts again.
 */
export function planRun(dir: string, env: NodeJS.ProcessEnv, scriptPath = process.argv[1]): PlanResult {
  const hit = cache.get(dir);
  if (hit && hit.env === env && hit.scriptPath === scriptPath && unchanged(hit.deps)) return hit.result;
  let internal = false;
  const { value: result, deps } = recording((): PlanResult => {
    try {
      return { plan: plan(dir, env, scriptPath) };
    } catch (err) {
      if (err instanceof NoFastPath) return { reason: err.message };
      internal = true;
      return { reason: `internal: ${err instanceof Error ? err.message : String(err)}` };
    }
  });
  if (internal) cache.delete(dir);
  else cache.set(dir, { env, scriptPath, result, deps });
  return result;
}

/** Notes what PATH resolution of `word` looks at: the PATH directories (or the path itself), the file found, our bundle directory. */
function depSearch(word: string, searchPath: string | undefined, own: string | undefined): void {
  if (word.includes('/')) dep(word);
  else for (const d of (searchPath ?? '/bin:/usr/bin').split(':')) dep(d === '' ? '.' : d);
  const found = resolveExec(word, searchPath);
  if (found) dep(found);
  if (own) dep(own);
}

function plan(dir: string, env: NodeJS.ProcessEnv, scriptPath: string | undefined): FastPlan {
  const text = readScript(path.join(dir, 'run'));
  const script = parsePlainScript(text);
  if (!script) return no('./run is not a plain exec script');
  const serviceDir = realpathSync(dir);
  const own = ownDir(scriptPath);
  let environ = initialEnviron(env, dir);
  let argv = script.words;
  let user: FastPlan['user'];
  const limits = new Map<number, Rlimit>();
  let setsid = false;
  let loaders = 0;
  let edits: EnvEdit[] = [];
  for (;;) {
    // As 0.76's pathexec: PATH is read before the last loader's edits are applied.
    const searchPath = getenv(environ, 'PATH');
    // Relative names are the chain's, from the service directory, and this process is elsewhere: a
    // relative path is never taken for one of our loaders (the program it names is started, as exec
    // would), and a search through a relative PATH entry is left to ./run.
    const word = argv[0] ?? '';
    const relative = word.includes('/') && !word.startsWith('/');
    if (relative && loaders === 0) return no('a relative program name');
    if (!word.includes('/') && (searchPath ?? '/bin:/usr/bin').split(':').some((d) => !d.startsWith('/'))) return no('a relative PATH entry');
    if (!relative) depSearch(word, searchPath, own);
    const ours = relative ? undefined : ourProgram(argv, searchPath, own, OURS);
    if (ours) dep(ours.file);
    environ = applyEnvEdits(environ, edits);
    edits = [];
    if (!ours) {
      if (loaders === 0) return no('the program is not one of our loaders');
      const file = finalFile(argv[0]!, searchPath, serviceDir, user);
      // setpriv, prlimit (or the waiting shell, see faststart.ts) search the final PATH.
      if ((limits.size > 0 || user) && !argv[0]!.includes('/') && getenv(environ, 'PATH') !== searchPath) return no('PATH changed by the last envdir');
      const tools = utilLinux();
      const via: string[] = [];
      if (user) {
        if (!tools.setpriv) return no('no util-linux setpriv for setuidgid');
        // setpriv takes a numeric id for an account name first: an account named by a number would mislead it.
        const named = lookupAccount(String(user.uid));
        if (named && named.uid !== user.uid) return no(`an account named ${user.uid}`);
        via.push(...setprivWords(tools.setpriv, user.uid, user.gid));
      }
      if (limits.size > 0) {
        if (tools.prlimit) via.push(...prlimitWords(tools.prlimit, [...limits]));
        else if (user) return no('no util-linux prlimit for another user\'s limits');
      }
      return { file, argv, environ, user, limits: [...limits], setsid, stderrToStdout: script.stderrToStdout, via };
    }
    if (!REPLAYED.has(ours.name)) return no(`${ours.name} is not replayed`);
    loaders++;
    const args = ours.argv.slice(1);
    switch (ours.name) {
      case 'envdir': {
        if (args.length < 2) return no('envdir usage');
        if (user) return no('envdir after setuidgid');
        if (limits.has(RLIMIT.NOFILE)) return no('envdir under softlimit -o');
        edits = envdirEdits(serviceDir, args[0]!);
        argv = args.slice(1);
        break;
      }
      case 'envuidgid':
      case 'setuidgid': {
        if (args.length < 2) return no(`${ours.name} usage`);
        const pw = lookupAccount(args[0]!);
        if (!pw) return no(`unknown account ${args[0]}`);
        if (ours.name === 'envuidgid') {
          edits = [
            { name: 'GID', value: String(pw.gid) },
            { name: 'UID', value: String(pw.uid) },
          ];
        } else {
          if (user || process.geteuid!() !== 0) return no('setuidgid needs root');
          user = { uid: pw.uid, gid: pw.gid };
        }
        argv = args.slice(1);
        break;
      }
      case 'softlimit': {
        const parsed = getopt(args, 'a:c:d:f:l:m:o:p:r:s:t:', 'softlimit');
        if (parsed.error !== undefined || parsed.rest.length === 0) return no('softlimit usage');
        for (const { opt, arg } of parsed.opts) {
          if (opt === 'p') return no('softlimit -p');
          for (const res of RESOURCES[opt]!) {
            const r = limits.get(res) ?? ownLimit(res);
            let cur: bigint;
            if (arg === '=') cur = r.max;
            else {
              const u = parseLimit(arg ?? '');
              if (u === undefined) return no('softlimit usage');
              cur = u > r.max ? r.max : u;
            }
            limits.delete(res);
            limits.set(res, { cur, max: r.max });
          }
        }
        argv = parsed.rest;
        break;
      }
      case 'pgrphack':
        if (args.length < 1) return no('pgrphack usage');
        setsid = true;
        argv = args;
        break;
    }
  }
}
