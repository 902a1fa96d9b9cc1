import path from 'node:path';

/**
 * How to run another program of this runtime: the one beside the running
 * script (`dist/bin/NAME.js` run by this Node, or an installed command
 * `command/NAME` run directly).
 */
export function siblingCommand(name: string, script: string = process.argv[1] ?? ''): { file: string; args: string[] } {
  const dir = path.dirname(path.resolve(script));
  if (script.endsWith('.js')) return { file: process.execPath, args: [path.join(dir, `${name}.js`)] };
  return { file: path.join(dir, name), args: [] };
}
