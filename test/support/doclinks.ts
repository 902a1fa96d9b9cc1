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

/** The options of a yargs `--help` text, each as its long name and its one-letter alias when it has one. */
export function helpOptions(help: string): { long: string; short?: string }[] {
  return [...help.matchAll(/^\s+(?:-([a-zA-Z]), )?--([a-z][a-z-]*)/gm)].map((m) => (m[1] ? { long: m[2]!, short: m[1] } : { long: m[2]! }));
}

/**
 * The text of each verb's entry in a man page's COMMANDS section, keyed by
 * verb (`install`, `service add`): from its `.B VERB` heading to the next
 * verb's heading or section. A heading naming several verbs
 * (`.B service start|stop|restart`) is the entry of each. Font escapes are
 * expected to be taken out already.
 */
export function manEntries(man: string, verbs: readonly string[]): Map<string, string> {
  const lines = man.split('\n');
  const known = new Set(verbs);
  const heads: { at: number; verbs: string[] }[] = [];
  lines.forEach((l, i) => {
    const m = /^\.B (service )?([a-z|]+)/.exec(l);
    if (!m) return;
    const named = m[2]!.split('|').map((w) => (m[1] ?? '') + w).filter((v) => known.has(v));
    if (named.length) heads.push({ at: i, verbs: named });
  });
  const entries = new Map<string, string>();
  heads.forEach((h, k) => {
    let end = k + 1 < heads.length ? heads[k + 1]!.at : lines.length;
    const sh = lines.findIndex((l, i) => i > h.at && l.startsWith('.SH'));
    if (sh !== -1 && sh < end) end = sh;
    for (const v of h.verbs) entries.set(v, lines.slice(h.at, end).join('\n'));
  });
  return entries;
}

/**
 * The repository paths a Markdown text names in code spans (`src/…`, `test/…`,
 * `bench/…`, `man/…`, `examples/…`, `scripts/…`), leaving out placeholders
 * (`DATE-COMMIT.md`) and C files, which name daemontools' own tree.
 */
export function namedPaths(text: string): string[] {
  const paths = [...text.matchAll(/`((?:src|test|bench|man|examples|scripts)\/[A-Za-z0-9_.*/-]+)`/g)].map((m) => m[1]!);
  return [...new Set(paths)].filter((p) => !/[A-Z]{3,}/.test(p) && !/\.[ch]$/.test(p));
}

/** Whether a named path exists; a `*` in its last part matches any run of characters. */
export function pathExists(base: string, p: string): boolean {
  const full = path.join(base, p.replace(/\/$/, ''));
  if (!p.includes('*')) return existsSync(full);
  const dir = path.dirname(full);
  const re = new RegExp(`^${path.basename(full).split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return existsSync(dir) && readdirSync(dir).some((n) => re.test(n));
}
