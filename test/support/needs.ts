import { describe, it } from 'vitest';
import type { TestFunction, TestOptions } from 'vitest';

/**
 * Visible skips. A test that needs something the machine may lack (root, C
 * daemontools, a tarball named by an environment variable) is written
 *
 *     itNeeds(HAVE_C, 'needs /usr/bin/svc (Debian daemontools)')('drives C supervise', async () => { ... });
 *
 * When the condition holds it is an ordinary `it`; otherwise the test is
 * skipped and its name ends in `(skipped: REASON)`, so the report says what
 * did not run and why. Inside a test, use `ctx.skip(REASON)` instead.
 */

/** The name a test gets: its own, plus the reason when it is skipped. */
export function needsName(condition: unknown, reason: string, name: string): string {
  return condition ? name : `${name} (skipped: ${reason})`;
}

/** `it` when condition is truthy; otherwise `it.skip` with the reason in the test's name. */
export function itNeeds(condition: unknown, reason: string) {
  return (name: string, fn: TestFunction, options: number | TestOptions = {}): void => {
    const opts = typeof options === 'number' ? { timeout: options } : options;
    if (condition) it(name, opts, fn);
    else it.skip(needsName(condition, reason, name), opts, fn);
  };
}

/** `describe` when condition is truthy; otherwise `describe.skip` with the reason in its name. */
export function describeNeeds(condition: unknown, reason: string) {
  return (name: string, fn: () => void, options: TestOptions = {}): void => {
    if (condition) describe(name, options, fn);
    else describe.skip(needsName(condition, reason, name), options, fn);
  };
}

/** Whether this process runs as root (setuidgid, setfsuid, full tmpfs tests need it). */
export const IS_ROOT = process.getuid?.() === 0;
