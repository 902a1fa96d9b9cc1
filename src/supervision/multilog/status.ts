import fs from 'node:fs';
import path from 'node:path';
import { errstr } from '../../djb/errstr.js';
import { MultilogFatal } from './runtime.js';
import type { Action, Script } from './script.js';

const { O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK } = fs.constants;

/**
 * 0.76 `f_init`: every `=FILE` is created if missing (mode 0600, never
 * truncated) and kept open for writing from offset 0. Paths are relative to
 * the starting directory.
 */
export function openStatusFiles(script: Script, startDir: string): Map<Action, number> {
  const fds = new Map<Action, number>();
  for (const a of script.actions) {
    if (a.kind !== 'status') continue;
    const file = path.resolve(startDir, a.file);
    try {
      fs.closeSync(fs.openSync(file, O_WRONLY | O_NONBLOCK | O_APPEND | O_CREAT, 0o600));
    } catch (err) {
      throw new MultilogFatal(`unable to create ${a.file}: ${errstr(err)}`);
    }
    try {
      fds.set(a, fs.openSync(file, O_WRONLY | O_NONBLOCK));
    } catch (err) {
      throw new MultilogFatal(`unable to write ${a.file}: ${errstr(err)}`);
    }
  }
  return fds;
}
