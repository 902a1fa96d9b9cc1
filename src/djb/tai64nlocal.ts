import { TAI64_OFFSET } from './tai64n.js';

/** Digits in a TAI64N label after the `@`. */
export const LABEL_DIGITS = 24;
/** Date's range limit, in seconds either side of the epoch. */
const MAX_DATE_SECONDS = 8.64e12;

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/**
 * Local-time text of a TAI64N label's 24 lowercase hex digits, as tai64nlocal
 * prints it: `YYYY-MM-DD HH:MM:SS.NNNNNNNNN` (year unpadded, nanoseconds at
 * least 9 digits). Undefined when the time is outside what the clock can show.
 * Keeps the last second's text, since labels in a log rise slowly.
 */
export class LocalTimeFormatter {
  private lastSecHex = '';
  private lastPrefix = '';

  format(digits: string): string | undefined {
    const secHex = digits.slice(0, 16);
    if (secHex !== this.lastSecHex) {
      const secs = Number(BigInt('0x' + secHex) - TAI64_OFFSET);
      if (!(Math.abs(secs) <= MAX_DATE_SECONDS)) return undefined;
      const t = new Date(secs * 1000);
      this.lastPrefix =
        `${t.getFullYear()}-${pad2(t.getMonth() + 1)}-${pad2(t.getDate())} ` +
        `${pad2(t.getHours())}:${pad2(t.getMinutes())}:${pad2(t.getSeconds())}.`;
      this.lastSecHex = secHex;
    }
    return this.lastPrefix + String(parseInt(digits.slice(16), 16)).padStart(9, '0');
  }
}
