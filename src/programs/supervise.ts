import path from 'node:path';
import { installedPatchSets, type ProgramIo } from '../supervision/program.js';
import { SuperviseFatal, Supervisor } from '../supervision/supervisor.js';

/** `supervise S`: keeps S/run going; exits 0 only after `svc -x`. */
export async function main(argv: string[], io: ProgramIo): Promise<number> {
  if (argv.length !== 1) {
    io.stderr('supervise: usage: supervise dir\n');
    return 100;
  }
  const dir = argv[0]!;
  let sup: Supervisor;
  try {
    sup = Supervisor.start({
      dir,
      label: dir,
      env: io.env,
      stdio: [0, 1, 2],
      sigq12: installedPatchSets(io.packageDir).has('sigq12'),
      stderr: (line) => io.stderr(line),
      // A logger's stderr is also kept in its supervise/warnings, as under svscan.
      captureStderr: path.basename(path.resolve(dir)) === 'log',
    });
  } catch (err) {
    if (err instanceof SuperviseFatal) {
      io.stderr(err.line);
      return 111;
    }
    throw err;
  }
  await sup.exited;
  return 0;
}
