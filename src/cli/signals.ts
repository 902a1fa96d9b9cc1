import { DjbError } from '../core/errors.js';
import { clearInterrupt, interrupt, interruptedBy } from '../posix/fsx.js';

const TRAPPED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs a transaction with SIGINT, SIGTERM and SIGHUP trapped: a signal stops
 * it at its next file-system step, it undoes itself as after any failure,
 * and the command ends with one line (exit 111). A second signal is ignored
 * while the undo runs; `kill -9` is left to the journal.
 */
export async function underSignals<T>(what: string, run: () => Promise<T>): Promise<T> {
  const handler = (sig: NodeJS.Signals): void => interrupt(sig);
  for (const s of TRAPPED) process.on(s, handler);
  try {
    return await run();
  } catch (err) {
    const sig = interruptedBy();
    if (sig) {
      throw new DjbError('E_INTERRUPTED', `${what} interrupted by ${sig}; every change was undone`, {
        hint: 'run the same command again to do it',
        cause: err,
      });
    }
    throw err;
  } finally {
    for (const s of TRAPPED) process.off(s, handler);
    clearInterrupt();
  }
}
