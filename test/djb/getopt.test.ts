import { describe, expect, it } from 'vitest';
import { getopt } from '../../src/djb/getopt.js';

describe('getopt as 0.76 (sgetopt)', () => {
  const spec = 'nNxXo:';
  const cases: [string[], { opts: { opt: string; arg?: string }[]; rest: string[]; error?: string }][] = [
    [['-n', 'f', 'p'], { opts: [{ opt: 'n' }], rest: ['f', 'p'] }],
    [['--', '-n', 'p'], { opts: [], rest: ['-n', 'p'] }],
    // Any word starting with -- ends the options and is consumed, silently.
    [['--help', '/x'], { opts: [], rest: ['/x'] }],
    [['-n', '--x', '-x'], { opts: [{ opt: 'n' }], rest: ['-x'] }],
    // A lone - ends the options and stays.
    [['-x', '-', 'p'], { opts: [{ opt: 'x' }], rest: ['-', 'p'] }],
    [['', '-n'], { opts: [], rest: ['', '-n'] }],
    [['-nxo5', 'p'], { opts: [{ opt: 'n' }, { opt: 'x' }, { opt: 'o', arg: '5' }], rest: ['p'] }],
    // An option's argument is the next word, whatever it looks like.
    [['-o', '--', 'p'], { opts: [{ opt: 'o', arg: '--' }], rest: ['p'] }],
    [['-o', '-n', 'p'], { opts: [{ opt: 'o', arg: '-n' }], rest: ['p'] }],
    [['-q', 'p'], { opts: [], rest: ['p'], error: 'prog: illegal option -- q' }],
    [['-:', 'p'], { opts: [], rest: ['p'], error: 'prog: illegal option -- :' }],
    [['-n', '-o'], { opts: [{ opt: 'n' }], rest: [], error: 'prog: option requires an argument -- o' }],
  ];
  for (const [args, want] of cases) {
    it(JSON.stringify(args), () => {
      const got = getopt(args, spec, 'prog');
      expect({ opts: got.opts, rest: got.rest, ...(got.error === undefined ? {} : { error: got.error }) }).toEqual(want);
    });
  }
});
