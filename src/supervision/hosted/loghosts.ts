import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import { getpwnam } from '../../posix/index.js';
import { HOST_ENV, HOST_FD, HOST_USER_ENV, readLines, send, type Attach } from './protocol.js';

/** A host that dies sooner than this after its start waits this long before the next start. */
const RESTART_BACKOFF_MS = 1000;
/** Log hosts svscan runs at most (one per log user); loggers of further users run as their own processes. */
export const MAX_HOSTS = 8;
/** Longest message a host may pass on for a logger. */
const MAX_SAY = 2048;

export interface HostsOptions {
  env: NodeJS.ProcessEnv;
  stderr(line: string): void;
  /** Kills a logger's placeholder (its start-up failed): supervise starts it again. */
  failed(id: number): void;
  /** A message of a logger (multilog's warning or fatal line), for svscan's stderr and that service's warnings. */
  say(id: number, text: string): void;
}

/** Who a host works as: the account given to setuidgid (undefined: svscan's own user) and the multilog bundle it runs. */
export interface HostUser {
  account: string | undefined;
  bundle: string;
}

/**
 * svscan's log hosts: one process per log user (see loghost.ts), started,
 * watched and restarted here. svscan only tells a host which placeholder
 * each logger works for; it never does a logger's file work itself.
 */
export class LogHosts {
  private readonly hosts = new Map<string, LogHost>();
  /** Which host each logger is on. */
  private readonly of = new Map<number, LogHost>();
  private nextId = 1;

  constructor(private readonly opts: HostsOptions) {}

  newId(): number {
    return this.nextId++;
  }

  /** True when a host for `user` runs or may be started. */
  canHost(user: HostUser): boolean {
    return this.hosts.has(keyOf(user)) || this.hosts.size < MAX_HOSTS;
  }

  attach(user: HostUser, m: Attach): void {
    const key = keyOf(user);
    let host = this.hosts.get(key);
    if (!host) this.hosts.set(key, (host = new LogHost(user, this.opts)));
    const before = this.of.get(m.id);
    if (before && before !== host) before.forget(m.id);
    this.of.set(m.id, host);
    host.attach(m);
  }

  stop(id: number, rotate: boolean): void {
    this.of.get(id)?.stop(id, rotate);
  }

  hold(id: number, on: boolean): void {
    this.of.get(id)?.hold(id, on);
  }

  forget(id: number): void {
    this.of.get(id)?.forget(id);
    this.of.delete(id);
  }

  /** pids of the running hosts (for tests and ps). */
  get pids(): number[] {
    return [...this.hosts.values()].map((h) => h.pid).filter((p) => p > 0);
  }
}

function keyOf(user: HostUser): string {
  return `${user.account ?? ''}\0${user.bundle}`;
}

class LogHost {
  private child: ChildProcess | undefined;
  private socket: net.Socket | undefined;
  private ready = false;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Loggers working now (their placeholder runs): sent again to a restarted host. */
  private readonly attached = new Map<number, Attach>();
  /** Every logger this host has worked for and not forgotten (it may still be writing out after a stop). */
  private readonly known = new Set<number>();
  /** Loggers on hold (svc -p), re-sent with them. */
  private readonly held = new Set<number>();

  constructor(
    private readonly user: HostUser,
    private readonly opts: HostsOptions,
  ) {
    this.start();
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  attach(m: Attach): void {
    this.attached.set(m.id, m);
    this.known.add(m.id);
    if (this.ready) send(this.socket!, m);
  }

  stop(id: number, rotate: boolean): void {
    if (!this.attached.delete(id)) return;
    this.held.delete(id);
    if (this.ready) send(this.socket!, { op: 'stop', id, rotate });
  }

  hold(id: number, on: boolean): void {
    if (on) this.held.add(id);
    else this.held.delete(id);
    if (this.ready) send(this.socket!, { op: on ? 'hold' : 'go', id });
  }

  forget(id: number): void {
    this.attached.delete(id);
    this.known.delete(id);
    this.held.delete(id);
    if (this.ready) send(this.socket!, { op: 'forget', id });
  }

  private start(): void {
    this.restartTimer = undefined;
    this.ready = false;
    this.startedAt = Date.now();
    const env: NodeJS.ProcessEnv = { ...this.opts.env, [HOST_ENV]: String(HOST_FD) };
    delete env[HOST_USER_ENV];
    if (this.user.account !== undefined) env[HOST_USER_ENV] = this.user.account;
    let child: ChildProcess;
    try {
      // svscan's own V8 flags (svscanboot gives it a small young generation and no JIT): the host is as lean.
      child = spawn(process.execPath, [...process.execArgv, this.user.bundle], { env, stdio: ['ignore', 'ignore', 2, 'pipe'], argv0: 'multilog' });
    } catch (err) {
      this.opts.stderr(`svscan: warning: unable to start log host: ${err instanceof Error ? err.message : String(err)}\n`);
      this.scheduleRestart();
      return;
    }
    this.child = child;
    child.on('error', () => {});
    const socket = child.stdio[HOST_FD] as net.Socket | null;
    if (!socket) {
      child.kill('SIGKILL');
      return;
    }
    this.socket = socket;
    readLines(
      socket,
      (m) => this.onMessage(child, m),
      () => {},
    );
    child.once('exit', () => {
      if (this.child !== child) return;
      this.child = undefined;
      this.ready = false;
      socket.destroy();
      this.scheduleRestart();
    });
  }

  private scheduleRestart(): void {
    if (this.restartTimer) return;
    const soon = Date.now() - this.startedAt < RESTART_BACKOFF_MS;
    this.restartTimer = setTimeout(() => this.start(), soon ? RESTART_BACKOFF_MS : 0);
  }

  private onMessage(child: ChildProcess, m: Record<string, unknown>): void {
    if (child !== this.child) return;
    if (m.op === 'hello') {
      if (this.ready) return;
      if (!this.credentialsDropped(child.pid!)) {
        this.opts.stderr('svscan: warning: log host does not run as the log user: stopped\n');
        child.kill('SIGKILL');
        return;
      }
      this.ready = true;
      for (const a of this.attached.values()) send(this.socket!, a);
      for (const id of this.held) send(this.socket!, { op: 'hold', id });
    } else if (m.op === 'say') {
      const id = Number(m.id);
      if (this.known.has(id) && typeof m.text === 'string') this.opts.say(id, m.text.slice(0, MAX_SAY).replace(/\n?$/, '\n'));
    } else if (m.op === 'failed') {
      const id = Number(m.id);
      // Only a logger of this host's own user: it could kill that placeholder itself anyway.
      if (this.attached.has(id)) this.opts.failed(id);
    }
  }

  /** The host says it is ready; the kernel must agree that every id of it is the log user's. */
  private credentialsDropped(pid: number): boolean {
    let uid: number;
    let gid: number;
    let groups: string;
    if (this.user.account === undefined) {
      uid = process.geteuid!();
      gid = process.getegid!();
      groups = '';
    } else {
      const pw = getpwnam(this.user.account);
      if (!pw) return false;
      uid = pw.uid;
      gid = pw.gid;
      groups = String(pw.gid);
    }
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    } catch {
      return false;
    }
    const ids = (name: string) => text.match(new RegExp(`^${name}:\\t([^\\n]*)$`, 'm'))?.[1]?.trim().split(/\s+/).filter((x) => x !== '') ?? [];
    const uids = ids('Uid');
    const gids = ids('Gid');
    if (uids.length !== 4 || uids.some((u) => Number(u) !== uid) || gids.length !== 4 || gids.some((g) => Number(g) !== gid)) return false;
    return this.user.account === undefined || ids('Groups').join() === groups;
  }
}
