import path from 'node:path';
import { DjbError } from '../core/errors.js';
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

/**
 * A service name is one path component that svscan will scan: not empty, no
 * `/`, not starting with `.` (svscan skips those), no whitespace or control
 * characters (the name goes into run scripts and log lines), no `{` (djbpkg's
 * temp names use it).
 */
export function checkServiceName(name: string): string {
  let why: string | undefined;
  if (name === '') why = 'it is empty';
  else if (name.includes('/')) why = 'it contains /';
  else if (name.startsWith('.')) why = 'it starts with . (svscan skips such names)';
  else if (/[\s\p{Cc}{}]/u.test(name)) why = 'it contains whitespace, a control character or a brace';
  else if (Buffer.byteLength(name) > 200) why = 'it is longer than 200 bytes';
  if (why) throw new DjbError('E_USAGE', `bad service name ${JSON.stringify(name)}: ${why}`);
  return name;
}

export function servicePaths(root: Root, name: string): ServicePaths {
  checkServiceName(name);
  return {
    name,
    definition: path.join(root.svcDefinitionsDir, name),
    link: path.join(root.serviceDir, name),
    logDir: path.join(root.multilogDir, name),
  };
}
