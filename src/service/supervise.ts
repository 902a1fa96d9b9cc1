import { closeSync, constants, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DjbError, describeCause } from '../core/errors.js';
import { unpackStatus } from '../supervision/status.js';
import type { Want } from '../supervision/status.js';
import { tai64nToUnix } from '../djb/tai64n.js';

/**
 * What a service directory's `supervise/` says, read as svstat reads it, so
 * that it works the same with djbpkg's supervise and with C daemontools'.
 */
export interface SuperviseState {
  /** A supervise holds supervise/ok open for reading. */
  supervised: boolean;
  /** `down` is absent: supervise starts the service when it starts. */
  normallyUp: boolean;
  /** 0 when down (or unsupervised). */
  pid: number;
  /** Unix seconds of the last pid change, or undefined without a readable status. */
  since: number | undefined;
  /** Status bytes 12..17 and their timestamp, for telling restarts apart. */
  stamp: string | undefined;
  paused: boolean;
  want: Want | undefined;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** True while a supervise reads DIR/supervise/ok (svok's test). */
export function isSupervised(dir: string): boolean {
  try {
    closeSync(openSync(path.join(dir, 'supervise', 'ok'), constants.O_WRONLY | constants.O_NONBLOCK));
    return true;
  } catch {
    return false;
  }
}

export function readState(dir: string): SuperviseState {
  let normallyUp = true;
  try {
    statSync(path.join(dir, 'down'));
    normallyUp = false;
  } catch {
    /* absent: normally up */
  }
  const state: SuperviseState = { supervised: isSupervised(dir), normallyUp, pid: 0, since: undefined, stamp: undefined, paused: false, want: undefined };
  if (!state.supervised) return state;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.join(dir, 'supervise', 'status'));
  } catch {
    return state;
  }
  const s = unpackStatus(bytes);
  if (!s) return state;
  return {
    ...state,
    pid: s.pid,
    since: tai64nToUnix(s.when),
    stamp: bytes.subarray(0, 18).toString('hex'),
    paused: s.pid !== 0 && s.paused,
    want: s.want,
  };
}

/**
 * Writes control bytes to DIR/supervise/control as svc does. Throws E_IO
 * (temporary) when no supervise reads it.
 */
export function control(dir: string, bytes: string): void {
  const file = path.join(dir, 'supervise', 'control');
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    const why = errno(err) === 'ENXIO' || errno(err) === 'ENOENT' ? 'supervise not running' : describeCause(err);
    throw new DjbError('E_IO', `unable to control ${dir}: ${why}`, { cause: err });
  }
  try {
    writeSync(fd, bytes);
  } catch (err) {
    throw new DjbError('E_IO', `error writing commands to ${dir}: ${describeCause(err)}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

/** Polls `cond` every `intervalMs` until it holds or `seconds` pass; returns whether it held. */
export async function waitUntil(cond: () => boolean, seconds: number, intervalMs = 100): Promise<boolean> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
