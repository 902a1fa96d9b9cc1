import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchLine } from '../../../src/supervision/multilog/match.js';
import { run } from '../../support/run.js';
import { tempDir } from '../../support/tmp.js';
import { MULTILOG } from '../../support/multilog.js';

// The matchtest cases of 0.76's rts.tests, answered by 0.76's pattern rule (man/multilog.8)
// (`*c` skips to the first c, then c must match there; no backtracking).
const CASES: [string, string, boolean][] = [
  ['one', 'one', true],
  ['one', '', false],
  ['one', 'on', false],
  ['one', 'onf', false],
  ['one', 'one*', false],
  ['one', 'onetwo', false],
  ['', '', true],
  ['', 'x', false],
  ['*', '', true],
  ['*', 'x', true],
  ['*', '*', true],
  ['*', 'one', true],
  ['one*', 'one', true],
  ['one*', 'one*', true],
  ['one*', 'onetwo', true],
  ['one*', '', false],
  ['one*', 'x', false],
  ['one*', 'on', false],
  ['one*', 'onf', false],
  ['* one', ' one', true],
  ['* one', 'x one', true],
  ['* one', '* one', true],
  ['* one', 'xy one', true],
  ['* one', 'one', false],
  ['* one', ' two', false],
  ['* one', '  one', false],
  ['* one', 'xy one ', false],
  ['* * one', '  one', true],
  ['* * one', 'x  one', true],
  ['* * one', ' y one', true],
  ['* * one', 'x y one', true],
  ['* * one', 'one', false],
  ['* * one', ' one', false],
  ['* * one', '   one', false],
];

describe('multilog pattern matching', () => {
  it.each(CASES)('pattern %j against line %j', (pattern, line, expected) => {
    const buf = Buffer.from(line);
    expect(matchLine(Buffer.from(pattern), buf, buf.length)).toBe(expected);
  });

  it('selects exactly the matching lines through the built program (-* then +pattern)', async () => {
    const byPattern = new Map<string, [string, boolean][]>();
    for (const [p, l, e] of CASES) byPattern.set(p, [...(byPattern.get(p) ?? []), [l, e]]);
    for (const [p, cases] of byPattern) {
      const dir = tempDir();
      const input = cases.map(([l]) => l + '\n').join('');
      const r = await run(process.execPath, [MULTILOG, '-*', `+${p}`, './d'], { cwd: dir, input });
      expect(r.code).toBe(0);
      const want = cases.filter(([, e]) => e).map(([l]) => l + '\n').join('');
      expect(fs.readFileSync(path.join(dir, 'd', 'current'), 'latin1'), `pattern ${JSON.stringify(p)}`).toBe(want);
    }
  });

  it('evaluates + and - left to right, each directory seeing the selection at its position', async () => {
    const dir = tempDir();
    const input = 'error: disk\ninfo: ok\nerror: net\ndebug: x\n';
    const r = await run(process.execPath, [MULTILOG, './all', '-*', '+error: *', './errors', '+info*', '-*net', './mixed'], {
      cwd: dir,
      input,
    });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'all/current'), 'latin1')).toBe(input);
    expect(fs.readFileSync(path.join(dir, 'errors/current'), 'latin1')).toBe('error: disk\nerror: net\n');
    expect(fs.readFileSync(path.join(dir, 'mixed/current'), 'latin1')).toBe('error: disk\ninfo: ok\n');
  });
});
