import { TAI64N_TEXT_LENGTH } from '../../djb/tai64n.js';

const HEX = Buffer.from('0123456789abcdef');

/**
 * Writes the TAI64N text label of "now" (`@` + 24 lowercase hex digits) as the
 * C clock gives it: microsecond resolution, nanoseconds = usec * 1000 + 500.
 * Cheap enough to call once per line: the seconds digits are rewritten only
 * when the second changes. Labels never go backwards within one clock.
 */
export class StampClock {
  /** The latest label; valid after `refresh()`. */
  readonly label: Buffer = Buffer.alloc(TAI64N_TEXT_LENGTH, 0x30);
  private offset = Date.now() - performance.now();
  private lastUs = -1;
  private lastSec = -1;

  constructor() {
    this.label[0] = 0x40;
  }

  /**
   * Microseconds since the epoch, non-decreasing: the monotonic clock plus an
   * offset that is nudged whenever it disagrees with the wall clock's
   * millisecond, so steps of the wall clock are followed.
   */
  nowMicros(): number {
    const perf = performance.now();
    const ms = Date.now();
    let t = this.offset + perf;
    if (t < ms) {
      this.offset += ms - t;
      t = ms;
    } else if (t >= ms + 1) {
      this.offset -= t - ms - 0.999;
      t = ms + 0.999;
    }
    let us = Math.floor(t * 1000);
    if (us < this.lastUs) us = this.lastUs;
    return us;
  }

  /** Updates `label` to now and returns it. */
  refresh(): Buffer {
    return this.set(this.nowMicros());
  }

  /** Updates `label` to the given time (microseconds since the epoch). */
  set(us: number): Buffer {
    if (us === this.lastUs) return this.label;
    this.lastUs = us;
    const sec = Math.floor(us / 1e6);
    const label = this.label;
    if (sec !== this.lastSec) {
      this.lastSec = sec;
      const text = ((1n << 62n) + 10n + BigInt(sec)).toString(16).padStart(16, '0');
      label.write(text, 1, 'latin1');
    }
    let nano = (us - sec * 1e6) * 1000 + 500;
    for (let i = 24; i >= 17; i--) {
      label[i] = HEX[nano & 15]!;
      nano >>>= 4;
    }
    return label;
  }
}
