import fs from 'node:fs';
import { bootId, processStartTime } from '../posix/index.js';

/**
 * `supervise/child`: what a restarted supervisor needs to find the `./run`
 * child of its predecessor, beside the 18-byte `status` (which stays exactly
 * 0.76's). Text, one `key value` a line: `pid`, `start` (field 22 of
 * /proc/PID/stat), `pipe` (inode of the log pipe on the child's fd 1, or fd 0
 * for a logger; 0 when none), `run` (`fast` when supervise started the
 * program of a plain exec script itself, `script` when `./run` ran through
 * its shell; see docs/fast-path.md), `boot` (/proc/sys/kernel/random/boot_id
 * when written). Written with the child's start, to `child.new` then renamed.
 * A record of another boot (or without one) is no record: start times count
 * from the boot, and pids repeat from one boot to the next. C supervise
 * neither reads nor writes it.
 */
export const CHILD_FILE = 'child';

export interface ChildRecord {
  pid: number;
  start: bigint;
  /** Inode of the log pipe the child was given; 0n when none. */
  pipe: bigint;
  /** How the child was started: `fast` or `script` (absent in records of older versions). */
  run?: 'fast' | 'script';
  /** The boot it was written in (default: this one). */
  boot?: string;
}

export function packChildRecord(r: ChildRecord): string {
  return `pid ${r.pid}\nstart ${r.start}\npipe ${r.pipe}\n${r.run ? `run ${r.run}\n` : ''}boot ${r.boot ?? bootId()}\n`;
}

export function unpackChildRecord(text: string): ChildRecord | undefined {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) kv.set(line.slice(0, sp), line.slice(sp + 1));
  }
  const pid = Number(kv.get('pid'));
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const run = kv.get('run');
    return {
      pid,
      start: BigInt(kv.get('start') ?? 'x'),
      pipe: BigInt(kv.get('pipe') ?? '0'),
      boot: kv.get('boot') ?? '',
      ...(run === 'fast' || run === 'script' ? { run } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The record in `superviseDir/child`, or undefined when absent, unreadable or of another boot. */
export function readChildRecord(superviseDir: string): ChildRecord | undefined {
  let r: ChildRecord | undefined;
  try {
    r = unpackChildRecord(fs.readFileSync(`${superviseDir}/${CHILD_FILE}`, 'latin1'));
  } catch {
    return undefined;
  }
  if (!r || bootId() === '' || r.boot !== bootId()) return undefined;
  return r;
}

/** Writes the record atomically; throws on failure (the caller warns). */
export function writeChildRecord(superviseDir: string, r: ChildRecord): void {
  const tmp = `${superviseDir}/${CHILD_FILE}.new`;
  fs.writeFileSync(tmp, packChildRecord(r), { mode: 0o644 });
  fs.renameSync(tmp, `${superviseDir}/${CHILD_FILE}`);
}

/** Is the recorded process still the very one that was recorded (same pid, same start time, not a zombie)? */
export function stillRunning(r: ChildRecord): boolean {
  return processStartTime(r.pid) === r.start;
}
