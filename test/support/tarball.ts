/**
 * Builds real `.tar.gz` files with node-tar from a description of their
 * contents, and gives their size and digests (computed here with node:crypto,
 * so tests pin what they built, never pasted values).
 *
 *     const tb = await buildTarball(dir, 'pkg-1.0.tar.gz', {
 *       'admin/pkg-1.0/package/install': { content: '#!/bin/sh\n', mode: 0o755 },
 *       'admin/pkg-1.0/src/conf-cc': 'gcc -O2\n',
 *       'admin/pkg-1.0/src/link': { symlink: 'conf-cc' },
 *       'admin/pkg-1.0/empty/': { dir: true },
 *     });
 *     tb.path, tb.bytes, tb.size, tb.md5, tb.sha256
 *
 * Entries are staged on disk and archived with fixed mtimes and no owner
 * names, so the same description gives the same bytes every time.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';

export type TarEntry =
  | string
  | Buffer
  | { content: string | Buffer; mode?: number }
  | { symlink: string }
  | { dir: true; mode?: number };

export interface Tarball {
  path: string;
  bytes: Buffer;
  size: number;
  md5: string;
  sha256: string;
}

/** Digests of a byte string, as a recipe pins them. */
export function digestsOf(bytes: Buffer): { size: number; md5: string; sha256: string } {
  return {
    size: bytes.length,
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Writes `outDir/name` as a gzipped tar of `entries` (paths relative, `/` separated). */
export async function buildTarball(outDir: string, name: string, entries: Record<string, TarEntry>): Promise<Tarball> {
  const stage = mkdtempSync(path.join(os.tmpdir(), 'djbpkg-tarball-'));
  try {
    const top = new Set<string>();
    for (const [rel, entry] of Object.entries(entries)) {
      const clean = rel.replace(/\/+$/, '');
      if (clean === '' || path.isAbsolute(clean) || clean.split('/').includes('..')) {
        throw new Error(`buildTarball: entry ${rel} must be a relative path inside the archive`);
      }
      top.add(clean.split('/')[0]!);
      const full = path.join(stage, clean);
      mkdirSync(path.dirname(full), { recursive: true });
      if (typeof entry === 'string' || Buffer.isBuffer(entry)) {
        writeFileSync(full, entry);
        chmodSync(full, 0o644);
      } else if ('content' in entry) {
        writeFileSync(full, entry.content);
        chmodSync(full, entry.mode ?? 0o644);
      } else if ('symlink' in entry) {
        symlinkSync(entry.symlink, full);
      } else {
        mkdirSync(full, { recursive: true });
        chmodSync(full, entry.mode ?? 0o755);
      }
    }
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, name);
    await tar.create(
      { gzip: true, file, cwd: stage, portable: true, mtime: new Date('2001-07-12T00:00:00Z'), noDirRecurse: false },
      [...top].sort(),
    );
    const bytes = readFileSync(file);
    return { path: file, bytes, ...digestsOf(bytes) };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
