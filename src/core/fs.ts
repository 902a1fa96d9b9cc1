import { lstat } from 'node:fs/promises';

/** True when something (any file type, a dangling symlink included) is at `p`. */
export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}
