import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DjbError } from '../../src/core/errors.js';
import { Root } from '../../src/core/root.js';
import { serviceAccounts } from '../../src/service/accounts.js';
import { tempDir } from '../support/tmp.js';

/** A root with its own passwd file (a chroot image): its accounts are the ones a service may name. */
function rootWith(lines: string[]): Root {
  const dir = tempDir('djbpkg-accounts-');
  mkdirSync(path.join(dir, 'etc'));
  writeFileSync(path.join(dir, 'etc/passwd'), lines.join('\n') + '\n');
  return new Root(dir);
}

const ROOT_IDS = { uid: 0, gid: 0 };
const ALICE_IDS = { uid: 1000, gid: 1000 };

function usageError(f: () => unknown): DjbError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(DjbError);
    expect((err as DjbError).code).toBe('E_USAGE');
    return err as DjbError;
  }
  throw new Error('no error thrown');
}

describe('serviceAccounts: who a service runs as and who owns its logs', () => {
  it('as root: a dedicated log account first, multilog before log before nobody, and it owns the logs', () => {
    const all = rootWith(['nobody:x:65534:65534::/:/bin/false', 'log:x:998:998::/:/bin/false', 'multilog:x:997:997::/:/bin/false']);
    expect(serviceAccounts(all, {}, ROOT_IDS)).toEqual({ user: undefined, logUser: { name: 'multilog', uid: 997, gid: 997 }, logOwner: { name: 'multilog', uid: 997, gid: 997 } });
    const logOnly = rootWith(['nobody:x:65534:65534::/:/bin/false', 'log:x:998:998::/:/bin/false']);
    expect(serviceAccounts(logOnly, {}, ROOT_IDS).logUser?.name).toBe('log');
    const nobodyOnly = rootWith(['nobody:x:65534:65534::/:/bin/false']);
    expect(serviceAccounts(nobodyOnly, {}, ROOT_IDS).logOwner).toEqual({ name: 'nobody', uid: 65534, gid: 65534 });
  });

  it('as root: named accounts are looked up in the root\'s passwd file; an unknown one is named with the file', () => {
    const root = rootWith(['nobody:x:65534:65534::/:/bin/false', 'www:x:33:33::/:/bin/false', 'weblog:x:40:40::/:/bin/false']);
    expect(serviceAccounts(root, { user: 'www', logUser: 'weblog' }, ROOT_IDS)).toEqual({
      user: { name: 'www', uid: 33, gid: 33 },
      logUser: { name: 'weblog', uid: 40, gid: 40 },
      logOwner: { name: 'weblog', uid: 40, gid: 40 },
    });
    const err = usageError(() => serviceAccounts(root, { user: 'mallory' }, ROOT_IDS));
    expect(err.message).toBe(`unknown account mallory (for --user) in ${root.passwdFile}`);
  });

  it('not as root: no account may be named (setuidgid needs root), and the invoking user owns the logs', () => {
    const root = rootWith(['nobody:x:65534:65534::/:/bin/false', 'www:x:33:33::/:/bin/false']);
    expect(usageError(() => serviceAccounts(root, { user: 'www' }, ALICE_IDS)).message).toBe('--user needs djbpkg to run as root (setuidgid does)');
    expect(usageError(() => serviceAccounts(root, { logUser: 'www' }, ALICE_IDS)).message).toBe('--log-user needs djbpkg to run as root (setuidgid does)');
    expect(serviceAccounts(root, {}, ALICE_IDS)).toEqual({ user: undefined, logUser: undefined, logOwner: { name: '1000', uid: 1000, gid: 1000 } });
  });
});
