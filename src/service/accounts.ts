import { readFileSync } from 'node:fs';
import { DjbError } from '../core/errors.js';
import { Root } from '../core/root.js';

/** One passwd entry, as setuidgid will look it up. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** Log accounts tried, in order, before `nobody`. */
export const DEDICATED_LOG_ACCOUNTS = ['multilog', 'log'] as const;

/**
 * The passwd file whose accounts the root's services will run as: the root's
 * own when it has one (a chroot image), else the host's (a sandbox root runs
 * its services on the host; for `/` both are the same file).
 */
export function passwdFileFor(root: Root): string {
  try {
    readFileSync(root.passwdFile);
    return root.passwdFile;
  } catch {
    return new Root('/').passwdFile;
  }
}

export function parsePasswd(text: string): Account[] {
  const out: Account[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || f[0] === '' || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) out.push({ name: f[0]!, uid, gid });
  }
  return out;
}

export class Accounts {
  private readonly byName: Map<string, Account>;

  constructor(readonly file: string, text: string) {
    this.byName = new Map(parsePasswd(text).map((a) => [a.name, a]));
  }

  static load(root: Root): Accounts {
    const file = passwdFileFor(root);
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      /* no accounts at all: every lookup fails with a clear message */
    }
    return new Accounts(file, text);
  }

  find(name: string): Account | undefined {
    return this.byName.get(name);
  }

  require(name: string, role: string): Account {
    const a = this.find(name);
    if (!a) throw new DjbError('E_USAGE', `unknown account ${name} (for ${role}) in ${this.file}`, { hint: `create it first, e.g. useradd --system --no-create-home ${name}` });
    return a;
  }

  /** The log user when none is named: a dedicated account if one exists, else nobody. */
  defaultLogAccount(): Account {
    for (const n of DEDICATED_LOG_ACCOUNTS) {
      const a = this.find(n);
      if (a) return a;
    }
    return this.require('nobody', 'the default log user');
  }
}

/** Who a new service runs as and who owns its log directory. */
export interface ServiceAccounts {
  /** --user: the account the command runs as (through setuidgid); undefined: as svscan runs it. */
  user: Account | undefined;
  /** The account multilog runs as; undefined when djbpkg does not run as root (the logs are then the invoking user's). */
  logUser: Account | undefined;
  /** The owner of the log directory. */
  logOwner: Account;
}

/** The ids of the process running djbpkg. */
export interface Invoker {
  uid: number;
  gid: number;
}

/** This process's ids. */
export function currentInvoker(): Invoker {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/**
 * The account rules of `djbpkg service add`: a named account must exist in
 * the root's passwd file (passwdFileFor) and may be named only by root, since
 * setuidgid needs root. As root, multilog runs as --log-user, else a
 * dedicated log account (multilog, log), else nobody, and that account owns
 * the log directory; not as root, the invoking user runs and owns the logs.
 * Errors: E_USAGE for an unknown account or one named without root.
 */
export function serviceAccounts(root: Root, given: { user?: string | undefined; logUser?: string | undefined }, invoker: Invoker = currentInvoker()): ServiceAccounts {
  const accounts = Accounts.load(root);
  const amRoot = invoker.uid === 0;
  const user = given.user === undefined ? undefined : accounts.require(given.user, '--user');
  if (user && !amRoot) throw new DjbError('E_USAGE', '--user needs djbpkg to run as root (setuidgid does)');
  const named = given.logUser === undefined ? undefined : accounts.require(given.logUser, '--log-user');
  if (named && !amRoot) throw new DjbError('E_USAGE', '--log-user needs djbpkg to run as root (setuidgid does)');
  if (!amRoot) return { user, logUser: undefined, logOwner: { name: String(invoker.uid), uid: invoker.uid, gid: invoker.gid } };
  const logUser = named ?? accounts.defaultLogAccount();
  return { user, logUser, logOwner: logUser };
}
