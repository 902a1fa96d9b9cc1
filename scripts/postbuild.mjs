// Marks every entry in dist/bin executable (tsc does not keep modes).
import { chmodSync, readdirSync } from 'node:fs';
const dir = new URL('../dist/bin/', import.meta.url);
for (const name of readdirSync(dir)) {
  if (name.endsWith('.js')) chmodSync(new URL(name, dir), 0o755);
}
