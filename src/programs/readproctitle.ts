import fs from 'node:fs';
import { promisify } from 'node:util';
import { errcode } from '../djb/errstr.js';
import type { ProgramIo } from '../supervision/program.js';
import { ProcTitle } from '../supervision/proctitle.js';

const read = promisify(fs.read);

/** `readproctitle ARG... LAST`: shows the tail of stdin in its own title, as `ps` prints it. */
export async function main(argv: string[], _io: ProgramIo): Promise<number> {
  const last = argv[argv.length - 1];
  if (last === undefined || Buffer.byteLength(last) < 5) return 100;
  const title = new ProcTitle(['readproctitle', ...argv.slice(0, -1)], Buffer.byteLength(last));
  process.title = title.text();
  const chunk = Buffer.alloc(4096);
  for (;;) {
    let n: number;
    try {
      ({ bytesRead: n } = await read(0, chunk, 0, chunk.length, null));
    } catch (err) {
      const code = errcode(err);
      if (code === 'EINTR') continue;
      if (code === 'EAGAIN') {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      return 111;
    }
    if (n === 0) return 0;
    title.feed(chunk.subarray(0, n));
    process.title = title.text();
  }
}
