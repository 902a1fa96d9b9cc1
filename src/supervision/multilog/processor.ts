import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { errcode, errstr } from '../../djb/errstr.js';
import type { Runtime } from './runtime.js';

const { O_WRONLY, O_RDONLY, O_CREAT, O_TRUNC, O_NONBLOCK } = fs.constants;
const OPEN_TRUNC = O_WRONLY | O_NONBLOCK | O_TRUNC | O_CREAT;
const OPEN_READ = O_RDONLY | O_NONBLOCK;

/** The text C prints after "processor crashed": its stale errno. */
export type CrashCause = 'EINTR' | 'ENOENT';

/**
 * Runs a log directory's processor, `sh -c PROC`, on `previous` until it
 * exits 0 (0.76 retries forever): fd 0 `previous`, fd 1 `processed`, fd 4
 * `state`, fd 5 `newstate`, in the directory `abs` (named `name` in
 * messages). A crash (a signal) is reported with `cause`, C's stale errno.
 */
export async function runProcessor(rt: Runtime, abs: string, name: string, proc: string, cause: CrashCause): Promise<void> {
  for (;;) {
    const outcome = await runProcessorOnce(rt, abs, name, proc);
    if (outcome === 'ok') return;
    if (outcome === 'crashed') await rt.pause(`processor crashed in ${name}`, cause);
    rt.warnRaw(`processor failed in ${name}, pausing`);
    await rt.sleep();
  }
}

/** One run of the processor, as a child process this one waits for without blocking. */
async function runProcessorOnce(rt: Runtime, abs: string, name: string, proc: string): Promise<'ok' | 'failed' | 'crashed'> {
  const file = (f: string) => path.join(abs, f);
  const fds: number[] = [];
  try {
    try {
      fds.push(fs.openSync(file('previous'), OPEN_READ));
      fds.push(fs.openSync(file('processed'), OPEN_TRUNC, 0o644));
      fds.push(fs.openSync(file('state'), OPEN_READ));
      fds.push(fs.openSync(file('newstate'), OPEN_TRUNC, 0o644));
    } catch (err) {
      // In 0.76 the forked child opens these and dies with this message.
      rt.fatalFromChild(`unable to run ${proc}: ${errstr(err)}`);
      return 'failed';
    }
    for (;;) {
      const r = await new Promise<{ error?: unknown; signal?: NodeJS.Signals | null; status?: number | null }>((resolve) => {
        try {
          const child = spawn('/bin/sh', ['-c', proc], {
            cwd: abs,
            argv0: 'sh',
            stdio: [fds[0]!, fds[1]!, 2, 'ignore', fds[2]!, fds[3]!],
          });
          child.once('error', (error) => resolve({ error }));
          child.once('exit', (status, signal) => resolve({ status, signal }));
        } catch (error) {
          resolve({ error });
        }
      });
      if (r.error !== undefined) {
        const code = errcode(r.error);
        if (code === 'EAGAIN' || code === 'ENOMEM') {
          await rt.pause(`unable to fork for processor in ${name}`, r.error);
          continue;
        }
        rt.fatalFromChild(`unable to run ${proc}: ${errstr(r.error)}`);
        return 'failed';
      }
      if (r.signal) return 'crashed';
      return r.status === 0 ? 'ok' : 'failed';
    }
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}
