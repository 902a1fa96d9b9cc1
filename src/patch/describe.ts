/**
 * A patch file's one-line description: its first line with text, when that
 * line comes before the diff itself, without a leading `#` or `//`.
 */
export function patchDescription(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (/^(--- |\+\+\+ |@@ |diff |Index: )/.test(line)) return undefined;
    const bare = line.replace(/^(#+|\/\/)\s*/, '').trim();
    if (bare !== '') return bare;
  }
  return undefined;
}
