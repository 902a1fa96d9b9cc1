/**
 * multilog's pattern rule (0.76 `match.c`): the pattern must cover the whole
 * line; `*` followed by c skips to the first c (no backtracking); a trailing
 * `*` takes any rest. No escapes.
 */
export function matchLine(pattern: Uint8Array, line: Uint8Array, len: number): boolean {
  let pi = 0;
  let li = 0;
  const plen = pattern.length;
  for (;;) {
    if (pi === plen) return li === len;
    const ch = pattern[pi++]!;
    if (ch === 0x2a) {
      if (pi === plen) return true;
      const next = pattern[pi]!;
      for (;;) {
        if (li === len) return false;
        if (line[li] === next) break;
        li++;
      }
      continue;
    }
    if (li === len) return false;
    if (line[li] !== ch) return false;
    li++;
  }
}
