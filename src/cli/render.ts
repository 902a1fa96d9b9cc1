import { DjbError } from '../core/errors.js';
import { EXIT_PERMANENT } from '../core/exit.js';
import type { Output } from '../core/io.js';

/** The only place djbpkg's own text is formatted for people. */
export function renderError(err: unknown, stderr: Output, verbose: boolean): number {
  if (err instanceof DjbError) {
    stderr.write(`djbpkg: fatal: ${err.message}\n`);
    if (err.hint) stderr.write(`djbpkg: hint: ${err.hint}\n`);
    if (verbose && err.stack) stderr.write(err.stack + '\n');
    return err.exitCode;
  }
  const text = err instanceof Error ? err.message : String(err);
  stderr.write(`djbpkg: fatal: internal error: ${text.split('\n')[0]}\n`);
  if (verbose && err instanceof Error && err.stack) stderr.write(err.stack + '\n');
  else stderr.write('djbpkg: hint: run with --verbose (or DEBUG=djbpkg) for a stack trace\n');
  return EXIT_PERMANENT;
}

export function warn(stderr: Output, text: string): void {
  stderr.write(`djbpkg: warning: ${text}\n`);
}

export function info(stderr: Output, text: string): void {
  stderr.write(`djbpkg: ${text}\n`);
}

export function json(stdout: Output, value: unknown): void {
  stdout.write(JSON.stringify(value, null, 2) + '\n');
}
