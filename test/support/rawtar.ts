import { gzipSync } from 'node:zlib';

/** One member of a hand-built ustar archive; lets tests write what node-tar would refuse to create. */
export interface RawMember {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo';
  body?: string | Buffer;
  mode?: number;
  linkname?: string;
}

const TYPEFLAG: Record<NonNullable<RawMember['type']>, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  chardev: '3',
  blockdev: '4',
  dir: '5',
  fifo: '6',
};

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(m: RawMember, size: number): Buffer {
  const h = Buffer.alloc(512);
  const type = m.type ?? 'file';
  if (Buffer.byteLength(m.name) > 100) throw new Error(`raw tar name too long: ${m.name}`);
  h.write(m.name, 0, 100, 'utf8');
  h.write(octal(m.mode ?? (type === 'dir' ? 0o755 : 0o644), 8), 100, 'ascii');
  h.write(octal(1000, 8), 108, 'ascii');
  h.write(octal(1000, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(1_000_000_000, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(TYPEFLAG[type], 156, 'ascii');
  if (m.linkname) h.write(m.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** A gzipped ustar archive of exactly these members, in this order. */
export function rawTarGz(members: readonly RawMember[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const body = m.type === undefined || m.type === 'file' ? Buffer.from(m.body ?? '') : Buffer.alloc(0);
    parts.push(header(m, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

/** The synthetic daemontools-0.76 tree the install tests unpack. */
export function daemontoolsMembers(opts: { commands?: string[]; top?: string; extra?: RawMember[] } = {}): RawMember[] {
  const top = opts.top ?? 'admin/daemontools-0.76';
  const commands = opts.commands ?? ['svc', 'svok', 'svstat'];
  return [
    { name: 'admin/', type: 'dir' },
    { name: `${top}/`, type: 'dir', mode: 0o1755 },
    { name: `${top}/package/`, type: 'dir' },
    { name: `${top}/package/commands`, body: commands.join('\n') + '\n' },
    { name: `${top}/package/install`, body: '#!/bin/sh -e\npackage/compile\n', mode: 0o755 },
    { name: `${top}/src/`, type: 'dir' },
    { name: `${top}/src/error.h`, body: '#ifndef ERROR_H\n#define ERROR_H\n\nextern int errno;\n\nextern int error_intr;\n\n#endif\n' },
    { name: `${top}/src/svc.c`, body: 'int main(void) { return 0; }\n' },
    { name: `${top}/src/svok.c`, body: 'int main(void) { return 1; }\n' },
    ...(opts.extra ?? []),
  ];
}

/** A test copy of the errno patch set, which applies to the src/error.h of daemontoolsMembers(). */
export const ERRNO_PATCH = `errno: take errno from <errno.h> (test copy)

--- a/src/error.h
+++ b/src/error.h
@@ -1,7 +1,7 @@
 #ifndef ERROR_H
 #define ERROR_H
 
-extern int errno;
+#include <errno.h>
 
 extern int error_intr;
 
`;
