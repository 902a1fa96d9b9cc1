import fs from 'node:fs';
import path from 'node:path';
import { errcode } from '../../djb/errstr.js';
import { runProcessor, type CrashCause } from './processor.js';
import type { Runtime } from './runtime.js';

const { O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK } = fs.constants;
const OPEN_APPEND = O_WRONLY | O_NONBLOCK | O_APPEND | O_CREAT;

/**
 * A log directory as rotation sees it (logdir.ts): where it is, how many
 * archives it keeps, its processor, and the descriptor of `current`, which
 * rotation closes and opens again.
 */
export interface RotatingDir {
  readonly name: string;
  readonly abs: string;
  readonly num: number;
  readonly processor: string | undefined;
  readonly rt: Runtime;
  fd: number;
}

/** Runs `op` until it succeeds, with 0.76's warning and pause after each failure. */
export async function retry(rt: Runtime, what: string, op: () => void): Promise<void> {
  for (;;) {
    try {
      op();
      return;
    } catch (err) {
      await rt.pause(what, err);
    }
  }
}

/** 0.76 `fullcurrent`, on the files (the bytes before it are written). */
export async function rotateFiles(d: RotatingDir, cause: CrashCause): Promise<void> {
  const { name, rt } = d;
  const file = (f: string) => path.join(d.abs, f);
  await retry(rt, `unable to write ${name}/current to disk`, () => fs.fsyncSync(d.fd));
  fs.closeSync(d.fd);
  d.fd = -1;
  await retry(rt, `unable to rename current to previous in directory ${name}`, () =>
    fs.renameSync(file('current'), file('previous')),
  );
  await retry(rt, `unable to create ${name}/current`, () => {
    d.fd = fs.openSync(file('current'), OPEN_APPEND, 0o600);
  });
  await retry(rt, `unable to set mode of ${name}/current`, () => fs.fchmodSync(d.fd, 0o644));
  await retry(rt, `unable to set mode of ${name}/previous`, () => fs.chmodSync(file('previous'), 0o744));
  if (d.processor === undefined) {
    await archive(d, 'previous', 's');
    return;
  }
  await runProcessor(rt, d.abs, name, d.processor, cause);
  const syncAndClose = async (f: string, what: string, mode?: number) => {
    let fd = -1;
    await retry(rt, `unable to create ${name}/${f}`, () => {
      fd = fs.openSync(file(f), OPEN_APPEND, 0o600);
    });
    await retry(rt, `unable to write ${name}/${f} to disk`, () => fs.fsyncSync(fd));
    if (mode !== undefined) await retry(rt, `unable to set mode of ${what}`, () => fs.fchmodSync(fd, mode));
    fs.closeSync(fd);
  };
  await syncAndClose('processed', `${name}/processed`, 0o744);
  await syncAndClose('newstate', `${name}/newstate`);
  await retry(rt, `unable to remove ${name}/previous`, () => fs.unlinkSync(file('previous')));
  await retry(rt, `unable to rename newstate to state in directory ${name}`, () =>
    fs.renameSync(file('newstate'), file('state')),
  );
  await archive(d, 'processed', 's');
}

/** 0.76 `finish`: archive FILE as `@<tai64n>.CODE`, then trim to at most num-1 archives. */
export async function archive(d: Pick<RotatingDir, 'name' | 'abs' | 'num' | 'rt'>, file: string, code: string): Promise<void> {
  const { name, rt } = d;
  const f = path.join(d.abs, file);
  let st: fs.Stats | undefined;
  for (;;) {
    try {
      st = fs.statSync(f);
      break;
    } catch (err) {
      if (errcode(err) === 'ENOENT') return;
      await rt.pause(`unable to stat ${name}/${file}`, err);
    }
  }
  if (st.nlink === 1) {
    for (;;) {
      const archived = rt.archiveName(code);
      try {
        fs.linkSync(f, path.join(d.abs, archived));
        break;
      } catch (err) {
        await rt.pause(`unable to link to ${name}/${archived}`, err);
      }
    }
  }
  for (;;) {
    try {
      fs.unlinkSync(f);
      break;
    } catch (err) {
      if (errcode(err) === 'ENOENT') break;
      await rt.pause(`unable to remove ${name}/${file}`, err);
    }
  }
  for (;;) {
    try {
      if (trimArchives(d.abs, d.num)) return;
    } catch (err) {
      await rt.pause(`unable to read ${name}`, err);
    }
  }
}

/** 0.76 `filesfit`: true when fewer than num archives remain, else removes the oldest. */
function trimArchives(abs: string, num: number): boolean {
  const names = fs.readdirSync(abs);
  let count = 0;
  let oldest = '@z';
  for (const n of names) {
    if (n.charCodeAt(0) === 0x40 && n.length >= 25) {
      count++;
      if (n < oldest) oldest = n.slice(0, 25);
    }
  }
  if (count < num) return true;
  const victim = names.find((n) => n.charCodeAt(0) === 0x40 && n.length >= 25 && n.startsWith(oldest));
  if (victim !== undefined) {
    try {
      fs.unlinkSync(path.join(abs, victim));
    } catch {
      // absent is the usual case
    }
  }
  return false;
}
