import fs from 'node:fs';
import { errcode, errstr } from '../djb/errstr.js';
import { getopt, progName } from '../djb/getopt.js';
import { BASE_COMMANDS, SIGQ12_COMMANDS } from '../supervision/machine.js';
import { installedPatchSets, type ProgramIo } from '../supervision/program.js';
import { openFifoForWrite, writeAllBlocking } from '../supervision/svdir.js';

const USAGE = 'svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill';
const USAGE_SIGQ12 = `${USAGE}, q quit, 1 usr1, 2 usr2`;

/** `svc [-udopchaitkx] S ...`: writes the option letters to each S/supervise/control. */
export function main(argv: string[], io: ProgramIo): number {
  const sigq12 = installedPatchSets(io.packageDir).has('sigq12');
  const letters = sigq12 ? BASE_COMMANDS + SIGQ12_COMMANDS : BASE_COMMANDS;
  const parsed = getopt(argv, letters, progName(io.argv0, 'svc'));
  if (parsed.error !== undefined) {
    io.stderr(`${parsed.error}\n${sigq12 ? USAGE_SIGQ12 : USAGE}\n`);
    return 100;
  }
  let commands = '';
  for (const { opt } of parsed.opts) if (!commands.includes(opt)) commands += opt;
  const bytes = Buffer.from(commands, 'latin1');

  let origin: string;
  try {
    origin = process.cwd();
  } catch (err) {
    io.stderr(`svc: fatal: unable to open current directory: ${errstr(err)}\n`);
    return 111;
  }
  for (const dir of parsed.rest) {
    try {
      process.chdir(origin);
    } catch (err) {
      io.stderr(`svc: fatal: unable to set directory: ${errstr(err)}\n`);
      return 111;
    }
    try {
      process.chdir(dir);
    } catch (err) {
      io.stderr(`svc: warning: unable to chdir to ${dir}: ${errstr(err)}\n`);
      continue;
    }
    let fd: number;
    try {
      fd = openFifoForWrite('supervise/control');
    } catch (err) {
      const why = errcode(err) === 'ENXIO' ? 'supervise not running' : errstr(err);
      io.stderr(`svc: warning: unable to control ${dir}: ${why}\n`);
      continue;
    }
    try {
      writeAllBlocking(fd, bytes);
    } catch (err) {
      io.stderr(`svc: warning: error writing commands to ${dir}: ${errstr(err)}\n`);
    } finally {
      fs.closeSync(fd);
    }
  }
  return 0;
}
