import fs from 'node:fs';
import { setfsgid, setfsuid, setThreadGroups } from '../../posix/index.js';

/** A user as the kernel sees a process: effective uid, gid and supplementary groups. */
export interface Cred {
  uid: number;
  gid: number;
  groups: number[];
}

/** The effective user of process `pid`, from /proc (never from anything the process says). */
export function credOf(pid: number): Cred | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const field = (name: string) => text.match(new RegExp(`^${name}:\\t([^\\n]*)$`, 'm'))?.[1]?.trim().split(/\s+/);
  const uid = field('Uid')?.[1];
  const gid = field('Gid')?.[1];
  const groups = field('Groups') ?? [];
  if (uid === undefined || gid === undefined) return undefined;
  return { uid: Number(uid), gid: Number(gid), groups: groups.filter((g) => g !== '').map(Number) };
}

let own: Cred | undefined;
/** svscan's own user (it never changes). */
export function ownCred(): Cred {
  own ??= { uid: process.geteuid!(), gid: process.getegid!(), groups: process.getgroups!() };
  return own;
}

export function sameCred(a: Cred, b: Cred): boolean {
  return a.uid === b.uid && a.gid === b.gid && a.groups.join(',') === b.groups.join(',');
}

/** True when this process can act on files as `cred` (it is that user, or it may set its fsuid). */
export function canActAs(cred: Cred): boolean {
  const own = ownCred();
  return sameCred(own, cred) || own.uid === 0;
}

/**
 * Runs `fn` with this thread's file-system identity switched to `cred`
 * (setfsuid/setfsgid and the thread's own groups), so that its synchronous
 * fs calls create files owned by, and are permission-checked as, that user.
 * Only synchronous calls on this thread are affected: libuv's worker
 * threads keep svscan's identity.
 */
export function asUser<T>(cred: Cred, fn: () => T): T {
  const own = ownCred();
  if (sameCred(own, cred)) return fn();
  setThreadGroups(cred.groups);
  setfsgid(cred.gid);
  setfsuid(cred.uid);
  try {
    return fn();
  } finally {
    setfsuid(own.uid);
    setfsgid(own.gid);
    setThreadGroups(own.groups);
  }
}
