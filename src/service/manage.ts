import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { lstat, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import { requireInsideRoot } from '../core/confine.js';
import { PACKAGE_VERB, djbpkgCommand } from '../core/hint.js';
import { shellQuote } from '../core/root.js';
import type { Root } from '../core/root.js';
import { awaitService } from './await.js';
import { healthOf, statusOk } from './health.js';
import type { Health } from './health.js';
import { isServiceName, servicePaths } from './names.js';
import type { ServicePaths } from './names.js';
import { control, isSupervised, readState, waitUntil } from './supervise.js';
import type { SuperviseState } from './supervise.js';

/** What a verb did, for `--json`'s `changed` and the one-line report. */
export interface ServiceChange {
  name: string;
  changed: boolean;
  /** The state after the verb (and its wait, if any). */
  state: SuperviseState;
  /** The log's state, when the service has a log/. */
  log: SuperviseState | undefined;
}

function requireDefinition(root: Root, p: ServicePaths): void {
  if (!existsSync(p.definition)) {
    throw new DjbError('E_NOT_INSTALLED', `service ${p.name} is not defined: ${root.display(p.definition)} does not exist`, {
      hint: `define it first: ${djbpkgCommand(root, ['service', 'add', p.name], { tail: '-- COMMAND' })}`,
    });
  }
}

/** Link target of ROOT/service/NAME: relative, so the root also works in place and chrooted. */
function linkTarget(p: ServicePaths): string {
  return path.relative(path.dirname(p.link), p.definition);
}

/**
 * The directory supervise runs in: through the /service link while enabled
 * (what svscan started), else the definition itself.
 */
export function serviceDir(p: ServicePaths): string {
  return isOurLink(p) ? p.link : p.definition;
}

function isOurLink(p: ServicePaths): boolean {
  try {
    return lstatSync(p.link).isSymbolicLink() && path.resolve(path.dirname(p.link), readlinkSync(p.link)) === p.definition;
  } catch {
    return false;
  }
}

function states(dir: string): { state: SuperviseState; log: SuperviseState | undefined } {
  const logDir = path.join(dir, 'log');
  return { state: readState(dir), log: existsSync(logDir) ? readState(logDir) : undefined };
}

function timeout(name: string, what: string, seconds: number, hint?: string): DjbError {
  return new DjbError('E_UNHEALTHY', `${name} ${what} within ${seconds} seconds`, { temporary: true, hint });
}

/**
 * `enable`: ROOT/service/NAME -> ../var/svc.d/NAME, made as `.NAME{new}` and
 * renamed over the name (a dot name, so svscan never sees the temporary link).
 * With `waitSeconds` > 0, waits until supervise runs it and, unless it is
 * normally down, until it is up.
 */
export async function enableService(root: Root, name: string, waitSeconds: number): Promise<ServiceChange> {
  const p = servicePaths(root, name);
  requireDefinition(root, p);
  if (!existsSync(root.serviceDir)) {
    throw new DjbError('E_NOT_INSTALLED', `${root.display(root.serviceDir)} does not exist`, { hint: `install daemontools first: ${djbpkgCommand(root, ['install', 'daemontools'], PACKAGE_VERB)}` });
  }
  const target = linkTarget(p);
  let changed = false;
  const st = await lstat(p.link).catch(() => undefined);
  if (st && !st.isSymbolicLink()) throw new DjbError('E_CONFLICT', `${root.display(p.link)} exists and is not a link djbpkg made`, { hint: 'move it away, or manage it by hand' });
  const current = st ? await readlink(p.link) : undefined;
  if (current !== undefined && path.resolve(path.dirname(p.link), current) !== p.definition) {
    throw new DjbError('E_CONFLICT', `${root.display(p.link)} is a link to ${current}, not to ${root.display(p.definition)}`, { hint: `remove it first: ${djbpkgCommand(root, ['service', 'disable', name])}` });
  }
  if (current !== target) {
    const tmp = path.join(root.serviceDir, `.${name}{new}`);
    try {
      await rm(tmp, { force: true });
      await symlink(target, tmp);
      await rename(tmp, p.link);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      throw ioError(`unable to link ${p.link}`, err);
    }
    changed = true;
  }
  if (waitSeconds > 0) {
    await awaitService({
      name,
      dir: p.link,
      seconds: waitSeconds,
      reached: (s) => s.supervised,
      mustRun: (s) => s.normallyUp,
      hint: `is svscan running for ${root.display(root.serviceDir)}? ${djbpkgCommand(root, ['boot'])} starts it`,
    });
  }
  return { name, changed, ...states(p.link) };
}

/**
 * `disable`: the /service link goes first, then `svc -dx` to the service and
 * then to its logger, then it waits until neither has a supervise. In that
 * order svscan, which restarts any supervise of a name it still sees, has
 * nothing left to restart.
 */
export async function disableService(root: Root, name: string, waitSeconds: number): Promise<ServiceChange> {
  const p = servicePaths(root, name);
  const st = await lstat(p.link).catch(() => undefined);
  let dir = p.definition;
  let changed = false;
  if (st) {
    if (!st.isSymbolicLink()) throw new DjbError('E_CONFLICT', `${root.display(p.link)} is not a link djbpkg made; not removing it`);
    dir = path.resolve(path.dirname(p.link), await readlink(p.link));
    // svc -dx goes through this link: only to a service directory inside ROOT.
    requireInsideRoot(root, dir, `the directory ${root.display(p.link)} links to:`, true);
    try {
      await unlink(p.link);
    } catch (err) {
      throw ioError(`unable to remove ${p.link}`, err);
    }
    changed = true;
  } else if (!existsSync(p.definition)) {
    throw new DjbError('E_NOT_INSTALLED', `service ${name} is neither enabled nor defined under ${root.display(root.svcDefinitionsDir)}`);
  }
  const dirs = [dir, path.join(dir, 'log')].filter((d) => existsSync(d));
  for (const d of dirs) {
    if (!isSupervised(d)) continue;
    try {
      control(d, 'dx');
      changed = true;
    } catch {
      /* it went away meanwhile: that is the goal */
    }
  }
  if (!(await waitUntil(() => dirs.every((d) => !isSupervised(d)), waitSeconds))) {
    throw timeout(name, 'was unlinked but its supervise did not exit', waitSeconds, `does it ignore TERM? try svc -k ${shellQuote(root.display(dir))}`);
  }
  return { name, changed, ...states(dir) };
}

export interface RemoveServiceResult extends ServiceChange {
  logsPurged: boolean;
}

/** `remove`: disable, then delete the definition; the logs go only with `purgeLogs`. */
export async function removeService(root: Root, name: string, opts: { waitSeconds: number; purgeLogs: boolean }): Promise<RemoveServiceResult> {
  const p = servicePaths(root, name);
  const defined = existsSync(p.definition);
  const linked = (await lstat(p.link).catch(() => undefined)) !== undefined;
  const hasLogs = existsSync(p.logDir);
  if (!defined && !linked && !(opts.purgeLogs && hasLogs)) {
    // Already gone: nothing to do is success, so that a playbook converges.
    return { name, changed: false, state: readState(p.definition), log: undefined, logsPurged: false };
  }
  const d = linked || defined ? await disableService(root, name, opts.waitSeconds) : { changed: false, state: readState(p.definition), log: undefined };
  const aside = path.join(root.svcDefinitionsDir, `.${name}{old}`);
  try {
    if (defined) {
      await rm(aside, { recursive: true, force: true });
      await rename(p.definition, aside);
      await rm(aside, { recursive: true, force: true });
    }
    if (opts.purgeLogs && hasLogs) await rm(p.logDir, { recursive: true, force: true });
  } catch (err) {
    throw ioError(`unable to remove ${p.definition}`, err);
  }
  return { name, changed: d.changed || defined || (opts.purgeLogs && hasLogs), state: d.state, log: d.log, logsPurged: opts.purgeLogs && hasLogs };
}

export type Transition = 'start' | 'stop' | 'restart';

function requireSupervised(root: Root, p: ServicePaths, dir: string): void {
  if (isSupervised(dir)) return;
  const enabled = isOurLink(p);
  throw new DjbError('E_IO', `unable to control ${p.name}: supervise not running`, {
    hint: enabled ? `is svscan running for ${root.display(root.serviceDir)}? ${djbpkgCommand(root, ['boot'])} starts it` : `enable it first: ${djbpkgCommand(root, ['service', 'enable', p.name])}`,
  });
}

/**
 * `start` (svc -u), `stop` (svc -d), `restart` (svc -t, after -u and -c so a
 * stopped or paused service comes back up). With `waitSeconds` > 0 waits
 * for the state, like `sv -w`: up, down, or up with a different status stamp.
 */
export async function transition(root: Root, name: string, verb: Transition, waitSeconds: number): Promise<ServiceChange> {
  const p = servicePaths(root, name);
  requireDefinition(root, p);
  const dir = serviceDir(p);
  requireSupervised(root, p, dir);
  const before = readState(dir);
  let bytes: string;
  let changed: boolean;
  let reached: (s: SuperviseState) => boolean;
  if (verb === 'start') {
    bytes = 'u';
    changed = before.pid === 0 || before.want !== 'up';
    reached = (s) => s.pid !== 0;
  } else if (verb === 'stop') {
    bytes = 'd';
    changed = before.pid !== 0 || before.want !== 'down';
    reached = (s) => s.pid === 0;
  } else {
    bytes = before.pid === 0 ? 'u' : 'uct';
    changed = true;
    reached = (s) => s.pid !== 0 && (before.pid === 0 || s.pid !== before.pid);
  }
  control(dir, bytes);
  if (waitSeconds > 0 && verb !== 'stop') {
    await awaitService({ name, dir, seconds: waitSeconds, reached, mustRun: () => true, hint: `see its log: ${djbpkgCommand(root, ['service', 'logs', name])}` });
  } else if (waitSeconds > 0 && !(await waitUntil(() => reached(readState(dir)), waitSeconds))) {
    const what = verb === 'stop' ? 'did not go down' : verb === 'start' ? 'did not come up' : 'did not restart';
    throw timeout(name, what, waitSeconds, verb === 'stop' ? `does it ignore TERM? svc -k ${shellQuote(root.display(dir))} kills it` : `see its log: ${djbpkgCommand(root, ['service', 'logs', name])}`);
  }
  return { name, changed, ...states(dir) };
}

/** One service as `status` reports it. */
export interface ServiceStatus {
  name: string;
  defined: boolean;
  enabled: boolean;
  state: SuperviseState;
  log: SuperviseState | undefined;
  /** Enabled and supervise wants it up (or, unsupervised, it is normally up). */
  wantsUp: boolean;
  /** The same for its logger (false without one). */
  logWantsUp: boolean;
  /** The directory supervise runs in (through the /service link while enabled). */
  dir: string;
  health: Health;
  logHealth: Health | undefined;
  /** False when it, or its logger, is wanted up and is not `up` (down or crash-looping). */
  ok: boolean;
}

function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function dotless(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
}

/** Every service the root knows: defined in /var/svc.d or present in /service. */
export function serviceNames(root: Root): string[] {
  // Names outside the rule (made by hand) are not djbpkg's to report or control.
  return [...new Set([...dotless(root.svcDefinitionsDir), ...dotless(root.serviceDir)])].filter(isServiceName).sort();
}

export function serviceStatus(root: Root, name: string): ServiceStatus {
  const p = servicePaths(root, name);
  const defined = existsSync(p.definition);
  // A dangling /service link still counts as enabled: svscan sees a name it cannot run.
  const enabled = lexists(p.link);
  if (!defined && !enabled) {
    throw new DjbError('E_NOT_INSTALLED', `no service ${name} in ${root.display(root.serviceDir)} or ${root.display(root.svcDefinitionsDir)}`);
  }
  const dir = enabled ? p.link : p.definition;
  const { state, log } = states(dir);
  const wanted = (s: SuperviseState): boolean => enabled && (s.supervised ? s.want === 'up' : s.normallyUp);
  const wantsUp = wanted(state);
  const logWantsUp = log !== undefined && wanted(log);
  const now = Date.now();
  const health = healthOf(dir, state, now);
  const logHealth = log ? healthOf(path.join(dir, 'log'), log, now) : undefined;
  return { name, defined, enabled, state, log, wantsUp, logWantsUp, dir, health, logHealth, ok: statusOk(wantsUp, health, logWantsUp, logHealth) };
}

