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
