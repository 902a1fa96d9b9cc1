import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { hashFileInto } from '../core/fs.js';

/** What a byte stream hashed to. Digests are lowercase hex. */
export interface Digests {
  size: number;
  md5: string;
  sha256: string;
}

/** MD5 and SHA-256 computed together over bytes fed in order. */
export class DigestStream {
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash = createHash('sha256');
  private bytes = 0;

  update(chunk: Uint8Array): void {
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.bytes += chunk.length;
  }

  get size(): number {
    return this.bytes;
  }

  /** Ends the hashes; call once. */
  digest(): Digests {
    return { size: this.bytes, md5: this.md5.digest('hex'), sha256: this.sha256.digest('hex') };
  }
}

/** MD5, SHA-256 and size of a file. */
export async function hashFile(file: string): Promise<Digests> {
  const d = new DigestStream();
  await hashFileInto(file, d);
  return d.digest();
}

/** One digest (or the size) of a file against what the recipe pins. */
export interface DigestCheck {
  what: 'size' | 'md5' | 'sha256';
  /** How people call it: `size`, `MD5`, `SHA-256`. */
  label: string;
  expected: string | number | undefined;
  actual: string | number;
  ok: boolean;
}
