import fs from 'node:fs';
import { errcode, errstr } from '../djb/errstr.js';
import type { ProgramIo } from '../supervision/program.js';
import { STATUS_BYTES, unpackStatus } from '../supervision/status.js';
import { openFifoForWrite } from '../supervision/svdir.js';
import { tai64nToUnix } from '../djb/tai64n.js';

/** The body of svstat's line for the service in the cwd (0.76's checks, in order). */
function describe(nowSec: number): string {
  let normallyUp = false;
  try {
    fs.statSync('down');
  } catch (err) {
    if (errcode(err) !== 'ENOENT') return `unable to stat down: ${errstr(err)}`;
    normallyUp = true;
  }
  try {
    fs.closeSync(openFifoForWrite('supervise/ok'));
  } catch (err) {
    if (errcode(err) === 'ENXIO') return 'supervise not running';
    return `unable to open supervise/ok: ${errstr(err)}`;
  }
  let fd: number;
  try {
    fd = fs.openSync('supervise/status', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    return `unable to open supervise/status: ${errstr(err)}`;
  }
  const buf = Buffer.alloc(STATUS_BYTES);
  let got = 0;
  try {
    while (got < STATUS_BYTES) {
      const n = fs.readSync(fd, buf, got, STATUS_BYTES - got, null);
      if (n === 0) break;
      got += n;
    }
  } catch (err) {
    return `unable to read supervise/status: ${errstr(err)}`;
  } finally {
    fs.closeSync(fd);
  }
  const st = unpackStatus(buf.subarray(0, got));
  if (!st) return 'unable to read supervise/status: bad format';
  const secs = Math.max(0, nowSec - tai64nToUnix(st.when));
  let body = st.pid !== 0 ? `up (pid ${st.pid}) ` : 'down ';
  body += `${secs} seconds`;
  if (st.pid !== 0 && !normallyUp) body += ', normally down';
  if (st.pid === 0 && normallyUp) body += ', normally up';
  if (st.pid !== 0 && st.paused) body += ', paused';
  if (st.pid === 0 && st.want === 'up') body += ', want up';
  if (st.pid !== 0 && st.want === 'down') body += ', want down';
  return body;
}

/** `svstat S ...`: one line per S on stdout. */
export function main(argv: string[], io: ProgramIo): number {
  let origin: string;
  try {
    origin = process.cwd();
  } catch (err) {
    io.stderr(`svstat: fatal: unable to open current directory: ${errstr(err)}\n`);
    return 111;
  }
  let out = '';
  for (const dir of argv) {
    try {
      process.chdir(origin);
    } catch (err) {
      if (out !== '') io.stdout(out);
      io.stderr(`svstat: fatal: unable to set directory: ${errstr(err)}\n`);
      return 111;
    }
    let body: string;
    try {
      process.chdir(dir);
      body = describe(Math.floor(Date.now() / 1000));
    } catch (err) {
      body = `unable to chdir: ${errstr(err)}`;
    }
    out += `${dir}: ${body}\n`;
  }
  if (out !== '') io.stdout(out);
  return 0;
}
