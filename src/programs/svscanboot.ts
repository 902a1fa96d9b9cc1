import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Root } from '../core/root.js';
import { dup2, execve, O_CLOEXEC, pipe2, prepareForExec } from '../posix/index.js';
import { PACKAGE_DIR_ENV, type ProgramIo } from '../supervision/program.js';
import { siblingCommand } from '../supervision/siblings.js';

/** What 0.76's svscanboot puts in readproctitle's last argument. */
const TITLE_DOTS = 400;
/**
 * V8 flags for the long-lived svscan when this Node runs it: a small young
 * generation and no JIT cut its resident memory by about a fifth at 1000
 * services (bench/results/); svscan spends its life idle, so speed does not matter.
 */
export const SVSCAN_NODE_FLAGS = ['--max-semi-space-size=1', '--jitless', '--no-expose-wasm'];
const PATH_DIRS = ['/usr/local/sbin', '/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/X11R6/bin'];

/** `/service/*` and `/service/*\/log` as sh expands them (an unmatched glob stays literal). */
function serviceTargets(serviceDir: string): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(serviceDir).filter((n) => !n.startsWith('.')).sort();
  } catch {
    // sh leaves the pattern as it is; svc then warns into /dev/null.
  }
  const dirs = names.map((n) => path.join(serviceDir, n));
  const logs = dirs.map((d) => path.join(d, 'log')).filter((l) => fs.existsSync(l));
  return [...(dirs.length ? dirs : [path.join(serviceDir, '*')]), ...(logs.length ? logs : [path.join(serviceDir, '*/log')])];
}

/**
 * svscanboot as 0.76: stdio to /dev/null, `svc -dx` every leftover service,
 * then this process becomes `svscan /service` (execve, same pid) with its
 * output piped into `readproctitle service errors: ....`. The environment
 * is PATH only (plus the package marker, which svscan strips again).
 * `DJBPKG_ROOT` moves /service and /command under another root.
 */
export function main(_argv: string[], io: ProgramIo): number {
  const root = new Root(io.env.DJBPKG_ROOT || '/');
  const PATH = [root.commandDir, root.usrLocalBin, ...PATH_DIRS.map((d) => root.join(d))].join(':');
  const env: Record<string, string> = { PATH };

  const devnull = fs.openSync('/dev/null', fs.constants.O_RDWR);
  for (const fd of [0, 1, 2]) dup2(devnull, fd);
  fs.closeSync(devnull);

  const svc = siblingCommand('svc');
  spawnSync(svc.file, [...svc.args, '-dx', ...serviceTargets(root.serviceDir)], { env, stdio: 'inherit' });

  const [readEnd, writeEnd] = pipe2(O_CLOEXEC);
  const rpt = siblingCommand('readproctitle');
  const title = spawn(rpt.file, [...rpt.args, 'service', 'errors:', '.'.repeat(TITLE_DOTS)], {
    env,
    stdio: [readEnd, 1, 2],
  });
  title.unref();
  fs.closeSync(readEnd);

  dup2(writeEnd, 1);
  dup2(writeEnd, 2);
  fs.closeSync(writeEnd);
  const svscan = siblingCommand('svscan');
  const svscanEnv: Record<string, string> = io.packageDir ? { ...env, [PACKAGE_DIR_ENV]: io.packageDir } : env;
  prepareForExec();
  try {
    const argv = svscan.args.length ? [svscan.file, ...SVSCAN_NODE_FLAGS, ...svscan.args] : ['svscan'];
    execve(svscan.file, [...argv, root.serviceDir], svscanEnv);
  } catch {
    // stderr is the pipe now: readproctitle shows it, as it would show svscan's own errors.
    fs.writeSync(2, `svscanboot: fatal: unable to run svscan\n`);
  }
  return 111;
}
