import { execve, PosixError } from '../posix/index.js';

/** A change to the child's environment: `value` undefined removes the variable. */
export interface EnvEdit {
  name: string;
  value: string | undefined;
}

/** The environment as `NAME=VALUE` strings, in the order the process holds it. */
export function environList(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out.push(`${k}=${v}`);
  return out;
}

/**
 * Applies edits the way 0.76's pathexec() does, so the child sees the same
 * order: each edit drops the first entry with that name by moving the last
 * entry into its slot, then (unless it is a removal) appends `NAME=VALUE`.
 */
export function applyEnvEdits(environ: readonly string[], edits: readonly EnvEdit[]): string[] {
  const e = [...environ];
  for (const { name, value } of edits) {
    const at = e.findIndex((entry) => entry.startsWith(name + '='));
    if (at >= 0) {
      const last = e.pop()!;
      if (at < e.length) e[at] = last;
    }
    if (value !== undefined) e.push(`${name}=${value}`);
  }
  return e;
}

type Exec = (file: string, argv: string[], envp: string[]) => never;

/**
 * 0.76's pathexec_run: a name with `/` is exec'd as is; otherwise each element
 * of `searchPath` (unset: `/bin:/usr/bin`; empty element: `.`) is tried in
 * order. ENOENT tries the next; EACCES, EPERM and EISDIR are remembered and the
 * next is tried; any other error stops. Returns only on failure, with the
 * error to report (the remembered one, if any).
 */
export function pathexecRun(argv: readonly string[], envp: readonly string[], searchPath: string | undefined, exec: Exec = execve): unknown {
  const file = argv[0] ?? '';
  const args = [...argv];
  const env = [...envp];
  const attempt = (candidate: string): unknown => {
    try {
      exec(candidate, args, env);
    } catch (err) {
      return err;
    }
    return undefined;
  };
  if (file.includes('/')) return attempt(file);
  let saved: unknown;
  let last: unknown;
  for (const dir of (searchPath ?? '/bin:/usr/bin').split(':')) {
    last = attempt(`${dir === '' ? '.' : dir}/${file}`);
    const code = last instanceof PosixError ? last.code : undefined;
    if (code !== 'ENOENT') {
      saved = last;
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EISDIR') return last;
    }
  }
  return saved ?? last;
}
