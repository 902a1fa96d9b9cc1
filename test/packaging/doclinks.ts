import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** A relative link in a Markdown file, with where it was found. */
export interface DocLink {
  file: string;
  line: number;
  target: string;
}

/**
 * The links of a Markdown text: `[text](target)` and `[text]: target`, outside
 * fenced code blocks and inline code spans. Absolute URLs (`http:`, `mailto:`)
 * and pure anchors (`#section`) are left out: only links into the repository count.
 */
export function relativeLinks(file: string, text: string): DocLink[] {
  const links: DocLink[] = [];
  let fenced = false;
  text.split('\n').forEach((raw, i) => {
    if (/^\s*(```|~~~)/.test(raw)) {
      fenced = !fenced;
      return;
    }
    if (fenced || /^( {4}|\t)/.test(raw)) return;
    const line = raw.replace(/`[^`]*`/g, '');
    const found = [...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g), ...line.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/g)];
    for (const m of found) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      links.push({ file, line: i + 1, target });
    }
  });
  return links;
}

/** The links whose file (the part before any `#`) does not exist, relative to the linking file. */
export function brokenLinks(links: DocLink[]): DocLink[] {
  return links.filter((l) => {
    const target = decodeURIComponent(l.target.split('#')[0]!);
    return !existsSync(path.resolve(path.dirname(l.file), target));
  });
}

/** Every `*.md` file under dir, recursively. */
export function markdownFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return markdownFiles(p);
    return name.endsWith('.md') ? [p] : [];
  });
}

/** The broken relative links of the given Markdown files. */
export function checkFiles(files: string[]): DocLink[] {
  return brokenLinks(files.flatMap((f) => relativeLinks(f, readFileSync(f, 'utf8'))));
}

/** The verbs in the `Commands:` section of a yargs `--help` text (`djbpkg service` → `service`). */
export function helpVerbs(help: string, prefix: string): string[] {
  const section = help.split(/\n\s*\n/).find((s) => s.startsWith('Commands:')) ?? '';
  const re = new RegExp(`^\\s+${prefix.replace(/ /g, '\\s+')}\\s+([a-z][a-z-]*)`, 'gm');
  return [...section.matchAll(re)].map((m) => m[1]!);
}
