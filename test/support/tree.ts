import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** Every object under `dir` with type, mode, owner and content hash or link target: equal listings mean an untouched tree. */
export function treeListing(dir: string, skip: (rel: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const full = path.join(dir, rel);
    let names: string[];
    try {
      names = readdirSync(full).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const st = lstatSync(path.join(dir, r));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`l ${r} -> ${readlinkSync(path.join(dir, r))}`);
      else if (st.isDirectory()) {
        out.push(`d ${r} ${mode} ${st.uid}:${st.gid}`);
        walk(r);
      } else {
        const sum = st.isFile() ? createHash('sha256').update(readFileSync(path.join(dir, r))).digest('hex') : 'special';
        out.push(`f ${r} ${mode} ${st.uid}:${st.gid} ${sum}`);
      }
    }
  };
  walk('');
  return out;
}
