import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import koffi from 'koffi';
import { LOCK_EX, LOCK_NB, flock, mkfifo, pipe2 } from './calls.js';

/**
 * The facts the sysdeps report is built from, each found by asking this
 * system (libc symbols, type sizes, a real FIFO, a real lock), never assumed.
 */
export interface ProbeSystem {
  hasSymbol(name: string): boolean;
  sizeOf(type: 'unsigned long' | 'gid_t'): number;
  makesFifo(): boolean;
  locksWithFlock(): boolean;
  makesPipe2(): boolean;
}

export function realProbeSystem(): ProbeSystem {
  const libc = koffi.load('libc.so.6');
  return {
    hasSymbol(name) {
      try {
        libc.func(`void ${name}(void)`);
        return true;
      } catch {
        return false;
      }
    },
    sizeOf(type) {
      if (type === 'unsigned long') return koffi.sizeof('unsigned long');
      return gidSize(libc);
    },
    makesFifo: () => inTempDir((dir) => {
      const f = path.join(dir, 'fifo');
      mkfifo(f, 0o600);
      return statSync(f).isFIFO();
    }),
    locksWithFlock: () => inTempDir((dir) => {
      const f = path.join(dir, 'lock');
      const a = openSync(f, 'a');
      const b = openSync(f, 'a');
      try {
        flock(a, LOCK_EX | LOCK_NB);
        try {
          flock(b, LOCK_EX | LOCK_NB);
          return false; // a second open file description got the lock too: not exclusive
        } catch {
          return true;
        }
      } finally {
        closeSync(a);
        closeSync(b);
      }
    }),
    makesPipe2: () => {
      try {
        const [r, w] = pipe2();
        closeSync(r);
        closeSync(w);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * sizeof(gid_t), measured: the list getgroups() writes is read back as 32-bit
 * and as 16-bit entries and compared with the groups Node reports.
 */
function gidSize(libc: ReturnType<typeof koffi.load>): number {
  const getgroups = libc.func('int getgroups(int size, _Inout_ uint8_t *list)');
  const want = process.getgroups?.() ?? [];
  const buf = Buffer.alloc(Math.max(want.length, 1) * 4);
  const got = getgroups(want.length, want.length ? buf : null) as number;
  if (got !== want.length) return 4;
  const as32 = Array.from({ length: got }, (_, i) => buf.readUInt32LE(i * 4));
  if (as32.every((g, i) => g === want[i])) return 4;
  const as16 = Array.from({ length: got }, (_, i) => buf.readUInt16LE(i * 2));
  return as16.every((g, i) => g === want[i]) ? 2 : 4;
}

function inTempDir(fn: (dir: string) => boolean): boolean {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'djbpkg-probe-'));
  try {
    return fn(dir);
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
