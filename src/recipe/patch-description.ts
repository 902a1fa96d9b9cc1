import { readFile } from 'node:fs/promises';

/**
 * A patch set's one-line description: the first non-empty line of the patch
 * file before its first `--- ` line, without a leading `# `. Undefined when the
 * file is missing or has no such line.
 */
export async function patchDescription(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return describePatchText(text);
}

export function describePatchText(text: string): string | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('--- ')) return undefined;
    const trimmed = line.trim();
    if (trimmed === '') continue;
    return trimmed.replace(/^# /, '');
  }
  return undefined;
}
