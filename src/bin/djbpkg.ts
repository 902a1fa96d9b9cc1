#!/usr/bin/env node
import { main } from '../cli/index.js';
import { Root } from '../core/root.js';

const env = process.env;
// What djbpkg creates gets the modes it names, as djb's scripts get with umask 022.
process.umask(0o022);
const rootArg = rootFromArgv(process.argv.slice(2)) ?? env.DJBPKG_ROOT ?? '/';

process.exitCode = await main(process.argv.slice(2), {
  root: new Root(rootArg),
  env,
  stdout: { write: (t) => void process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) },
  stderr: { write: (t) => void process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) },
  now: () => Date.now(),
});

function rootFromArgv(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--root') return argv[i + 1];
    if (a.startsWith('--root=')) return a.slice(7);
  }
  return undefined;
}
