import path from 'node:path';
import { DjbError } from './errors.js';

/** Mode of /package: sticky, writable only by its owner, as slashpackage asks. */
export const PACKAGE_MODE = 0o1755;

/**
 * Every filesystem path djbpkg touches is built here, under one root
 * (`--root DIR`, default `/`). Paths built from outside data (recipes, tar
 * members, patches) go through `inside()` so that they cannot leave their base.
 */
export class Root {
  readonly dir: string;

  constructor(dir = '/') {
    this.dir = path.resolve(dir);
  }

  get isSystemRoot(): boolean {
    return this.dir === '/';
  }

  /** ROOT joined with a path written as if ROOT were `/`. */
  join(...absParts: string[]): string {
    return path.join(this.dir, ...absParts.map((p) => p.replace(/^\/+/, '')));
  }

  get packageDir(): string {
    return this.join('package');
  }
  categoryDir(category: string): string {
    return inside(this.packageDir, category);
  }
  get commandDir(): string {
    return this.join('command');
  }
  get usrLocalBin(): string {
    return this.join('usr/local/bin');
  }
  get serviceDir(): string {
    return this.join('service');
  }
  get etcDir(): string {
    return this.join('etc');
  }
  get inittab(): string {
    return this.join('etc/inittab');
  }
  get rcLocal(): string {
    return this.join('etc/rc.local');
  }
  get defaultDistfiles(): string {
    return this.join('usr/local/djb/dist');
  }
  /** systemd's unit directory for the admin's units. */
  get systemdSystemDir(): string {
    return this.join('etc/systemd/system');
  }
  /** Exists exactly when systemd is the running init of this root (sd_booted's test). */
  get systemdRunDir(): string {
    return this.join('run/systemd/system');
  }
  /** Where a csh would be installed on this root. */
  get cshCandidates(): string[] {
    return [this.join('bin/csh'), this.join('usr/bin/csh')];
  }
  /** Service definitions (`djbpkg service add`), linked into /service when enabled. */
  get svcDefinitionsDir(): string {
    return this.join('var/svc.d');
  }
  /** Service logs, one multilog directory per service. */
  get multilogDir(): string {
    return this.join('var/multilog');
  }
  /** Where section-8 man pages are linked. */
  get man8Dir(): string {
    return this.join('usr/local/share/man/man8');
  }
  /** The account database of this root (the host's is used when the root has none). */
  get passwdFile(): string {
    return this.join('etc/passwd');
  }
  /** djbpkg's own state (locks, boot records). */
  get stateDir(): string {
    return this.join('var/lib/djbpkg');
  }

  /**
   * Path for messages: the real path on this host (`/tmp/r/etc/rc.local`
   * under `--root /tmp/r`), so that what it names can be found and copied.
   */
  display(p: string): string {
    return p;
  }

  /** Path as the target system will see it (ROOT stripped), for manifests and boot lines. */
  inRoot(p: string): string {
    if (this.isSystemRoot) return p;
    const rel = path.relative(this.dir, p);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return p;
    return '/' + rel;
  }
}

/**
 * `base/rel`, refusing any `rel` that is absolute or climbs out of `base`.
 * Lexical check; callers that follow symlinks must also check real paths.
 */
export function inside(base: string, rel: string): string {
  if (path.isAbsolute(rel)) {
    throw new DjbError('E_USAGE', `path ${rel} must be relative to ${base}`);
  }
  const full = path.resolve(base, rel);
  const back = path.relative(base, full);
  if (back === '..' || back.startsWith('..' + path.sep) || path.isAbsolute(back)) {
    throw new DjbError('E_USAGE', `path ${rel} leaves ${base}`);
  }
  return full;
}

/** `s` quoted for a POSIX shell when it needs it (hints the user copies). */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
