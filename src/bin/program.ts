// First: which descriptors the parent passed, before Node opens any of its own.
import '../posix/startfds.js';
import { writeSync } from 'node:fs';
import { PACKAGE_DIR_ENV, type ProgramIo } from '../supervision/program.js';

export type ProgramMain = (argv: string[], io: ProgramIo) => number | Promise<number>;

function writeAll(fd: number, data: string | Uint8Array): void {
  let buf = typeof data === 'string' ? Buffer.from(data) : data;
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
  }
}

/**
 * Runs one daemontools program: builds its io, strips the package marker from
 * the environment (so children never see it), sets the exit code.
 * `name` is used when argv[0] is unusable.
 */
export async function runProgram(name: string, main: ProgramMain): Promise<void> {
  const env = process.env;
  const packageDir = env[PACKAGE_DIR_ENV] || undefined;
  delete env[PACKAGE_DIR_ENV];
  const argv0 = process.argv[1] ?? name;
  const io: ProgramIo = {
    argv0,
    env,
    packageDir,
    stdout: (d) => writeAll(1, d),
    stderr: (t) => writeAll(2, t),
  };
  try {
    process.exitCode = await main(process.argv.slice(2), io);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    io.stderr(`${name}: fatal: internal error: ${text.split('\n')[0]}\n`);
    process.exitCode = 111;
  }
}
