import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ours, runTo, theirs } from '../support/loaders.js';
import { itNeeds } from '../support/needs.js';

const LIMITS = 'cat /proc/$$/limits';

/** Soft and hard values of one `/proc/PID/limits` row. */
function row(limits: string, label: string): [string, string] {
  const line = limits.split('\n').find((l) => l.startsWith(label))!;
  const cols = line.slice(26).trim().split(/\s+/);
  return [cols[0]!, cols[1]!];
}

const USAGE =
  'softlimit: usage: softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child\n';

describe('softlimit', () => {
  it('sets each soft limit, leaves the hard one, `=` raises soft to hard', async () => {
    const r = await runTo([
      ...ours('softlimit'),
      '-a', '900000000', '-c', '0', '-d', '800000000', '-f', '700000', '-l', '65536',
      '-o', '77', '-p', '555', '-r', '600000000', '-s', '4000000', '-t', '99',
      'sh', '-c', LIMITS,
    ]);
    expect(r.code).toBe(0);
    const self = readFileSync('/proc/self/limits', 'utf8');
    const expectRow = (label: string, soft: string): void => {
      expect(row(r.stdout, label)).toEqual([soft, row(self, label)[1]]);
    };
    expectRow('Max address space', '900000000');
    expectRow('Max core file size', '0');
    expectRow('Max data size', '800000000');
    expectRow('Max file size', '700000');
    expectRow('Max locked memory', '65536');
    expectRow('Max open files', '77');
    expectRow('Max processes', '555');
    expectRow('Max resident set', '600000000');
    expectRow('Max stack size', '4000000');
    expectRow('Max cpu time', '99');
  });

  it('-m sets data, stack, locked memory and address space; later options win; values clamp to hard; `=`', async () => {
    const r = await runTo([...ours('softlimit'), '-m', '300000000', '-s', '5000000', '-o', '99999999999', '-c', '0', '-c', '=', 'sh', '-c', LIMITS]);
    expect(r.code).toBe(0);
    const self = readFileSync('/proc/self/limits', 'utf8');
    expect(row(r.stdout, 'Max data size')[0]).toBe('300000000');
    expect(row(r.stdout, 'Max address space')[0]).toBe('300000000');
    expect(row(r.stdout, 'Max stack size')[0]).toBe('5000000');
    const lockHard = row(self, 'Max locked memory')[1];
    expect(row(r.stdout, 'Max locked memory')[0]).toBe(lockHard === 'unlimited' || Number(lockHard) > 300000000 ? '300000000' : lockHard);
    expect(row(r.stdout, 'Max open files')[0]).toBe(row(self, 'Max open files')[1]);
    expect(row(r.stdout, 'Max core file size')[0]).toBe(row(self, 'Max core file size')[1]);
  });

  it('usage (100) for a non-numeric value, an unknown option, a missing argument or child', async () => {
    const cases: [string[], string][] = [
      [['-o', '12x', 'true'], USAGE],
      [['-o', ' 5', 'true'], USAGE],
      [['-q', 'true'], 'softlimit: illegal option -- q\n' + USAGE],
      [['-o'], 'softlimit: option requires an argument -- o\n' + USAGE],
      [['-o', '5'], USAGE],
      [[], USAGE],
    ];
    for (const [args, err] of cases) {
      const r = await runTo([...ours('softlimit'), ...args]);
      expect([args, r.stderr, r.code]).toEqual([args, err, 100]);
    }
  });

  const c = theirs('softlimit');
  itNeeds(c, 'needs C softlimit (Debian daemontools)')('agrees with C softlimit (Debian daemontools) on limits, texts and codes', async () => {
    const cases = [
      ['-m', '250000000', '-o', '50', '-t', '=', '-c', '', 'sh', '-c', LIMITS],
      ['-p', '18446744073709551617', 'sh', '-c', LIMITS],
      ['-o', '12x', 'true'],
      ['-x', 'true'],
      ['-o'],
      ['djbpkg-no-such-program'],
    ];
    for (const args of cases) {
      const a = await runTo([...ours('softlimit'), ...args]);
      const b = await runTo([...c!, ...args]);
      expect([args, a.stdout, a.stderr, a.code]).toEqual([args, b.stdout, b.stderr, b.code]);
    }
  });
  if (!c) it.skip('differential against C softlimit: /usr/bin/softlimit not installed', () => {});
});
