import path from 'node:path';
import { DjbError } from '../core/errors.js';
import { requireInsideRoot } from '../core/confine.js';
import type { Root } from '../core/root.js';

/**
 * Where one service lives under the root: its definition in /var/svc.d, the
 * link svscan sees in /service, its logs in /var/multilog.
 */
export interface ServicePaths {
  name: string;
  /** ROOT/var/svc.d/NAME */
  definition: string;
  /** ROOT/service/NAME, a relative symlink to the definition while enabled. */
  link: string;
  /** ROOT/var/multilog/NAME */
  logDir: string;
}

/** The one rule for a service name (documented in docs/trust.md and djbpkg(8)). */
export const SERVICE_NAME_RULE = '[A-Za-z0-9][A-Za-z0-9._@+-]*, at most 64 bytes';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]*$/;
const MAX_NAME_BYTES = 64;

/** `s` for a message: printable ASCII as it is, anything else as \u{XXXX} (no bidi overrides, no escapes reach the terminal). */
export function visible(s: string): string {
  let out = '';
  for (const ch of s) out += /^[\x20-\x7e]$/.test(ch) ? ch : `\\u{${ch.codePointAt(0)!.toString(16).toUpperCase()}}`;
  return out;
}

/**
 * A service name is one path component that svscan scans and that is safe in
 * a run script, a log line and a pasted command: it matches
 * `[A-Za-z0-9][A-Za-z0-9._@+-]*` and is at most 64 bytes. Every service verb
 * checks it before touching anything; anything else is exit 100.
 */
export function checkServiceName(name: string): string {
  name = String(name);
  if (!NAME.test(name) || Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new DjbError('E_USAGE', `bad service name '${visible(name)}': a service name matches ${SERVICE_NAME_RULE}`, {
      hint: 'letters, digits and . _ @ + - only, starting with a letter or digit (e.g. web, tinydns-int, getty@tty1)',
    });
  }
  return name;
}

/** Whether `name` follows the rule (names found in the service directories that do not are left alone). */
export function isServiceName(name: string): boolean {
  return NAME.test(name) && Buffer.byteLength(name) <= MAX_NAME_BYTES;
}

export function servicePaths(root: Root, name: string): ServicePaths {
  name = checkServiceName(name);
  const p = {
    name,
    definition: path.join(root.svcDefinitionsDir, name),
    link: path.join(root.serviceDir, name),
    logDir: path.join(root.multilogDir, name),
  };
  // What a service verb writes, removes or signals through lies inside ROOT:
  // the definition and the log directory with any symlink followed, the
  // /service link up to (not through) itself.
  requireInsideRoot(root, p.definition, 'the service definition', true);
  requireInsideRoot(root, p.logDir, 'the log directory', true);
  requireInsideRoot(root, p.link, 'the service link');
  return p;
}
