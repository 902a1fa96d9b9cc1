import fs from 'node:fs';
import { TEST_FAULT_ENV } from '../posix/index.js';
import { errstr } from '../djb/errstr.js';
import { installedPatchSets, type ProgramIo } from '../supervision/program.js';
import { Scanner } from '../supervision/scanner.js';

/** Scan period of 0.76. */
export const SCAN_INTERVAL_MS = 5000;
/** Tests only: overrides the scan period; never passed on to services. */
export const SCAN_INTERVAL_ENV = 'DJBPKG_SVSCAN_INTERVAL_MS';

/** `svscan [DIR]`: supervises every subdirectory of DIR (or the cwd), in this one process, forever. */
export function main(argv: string[], io: ProgramIo): Promise<number> | number {
  const target = argv[0] ?? '.';
  let dirFd: number;
  try {
    dirFd = fs.openSync(target, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (err) {
    io.stderr(`svscan: fatal: unable to chdir to ${target}: ${errstr(err)}\n`);
    return 111;
  }
  const interval = Number(io.env[SCAN_INTERVAL_ENV]) > 0 ? Number(io.env[SCAN_INTERVAL_ENV]) : SCAN_INTERVAL_MS;
  const env = { ...io.env };
  delete env[SCAN_INTERVAL_ENV];
  delete env[TEST_FAULT_ENV];
  const scanner = new Scanner({
    dir: `/proc/self/fd/${dirFd}`,
    env,
    sigq12: installedPatchSets(io.packageDir).has('sigq12'),
    // A message that cannot be written (readproctitle gone) must not stop the supervision.
    stderr: (line) => {
      try {
        io.stderr(line);
      } catch {
        // Dropped.
      }
    },
  });
  const { limit, services, logged } = scanner.budget;
  io.stderr(`svscan: info: descriptor limit ${limit} leaves room for ${services} services, or ${logged} with a logger\n`);
  const scan = () => {
    try {
      scanner.scan();
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      io.stderr(`svscan: warning: internal error while scanning: ${text.split('\n')[0]}\n`);
    }
  };
  return new Promise<number>(() => {
    scan();
    setInterval(scan, interval);
  });
}
