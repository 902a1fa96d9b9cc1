import { parsePatch as jsdiffParsePatch } from 'diff';
import { DjbError } from '../core/errors.js';
import type { FileChange, FilePatch, Hunk, HunkLine } from './types.js';

/** The name unified diffs use for the missing side of a created or deleted file. */
export const DEV_NULL = '/dev/null';

/** GNU `diff -N` dates the absent side of a created or deleted file at the epoch. */
const EPOCH_HEADER = /^1970-01-01 00:00:00(\.0+)? \+0000$|^1970-01-01 00:00:00(\.0+)?$|^Thu Jan  1 00:00:00 1970$/;

interface JsdiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}

/**
 * Parses a (multi-file) unified diff. Text before the first `---` line is
 * commentary and ignored. Throws E_PATCH on a malformed diff or one that
 * changes no file.
 */
export function parsePatch(text: string): FilePatch[] {
  let parsed;
  try {
    parsed = jsdiffParsePatch(text);
  } catch (err) {
    throw new DjbError('E_PATCH', `malformed unified diff: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const files: FilePatch[] = [];
  for (const entry of parsed) {
    if (entry.hunks.length === 0) {
      if (entry.oldFileName === undefined && entry.newFileName === undefined) continue;
      throw new DjbError('E_PATCH', `malformed unified diff: no hunks for ${entry.newFileName ?? entry.oldFileName}`);
    }
    if (entry.oldFileName === undefined || entry.newFileName === undefined) {
      throw new DjbError('E_PATCH', 'malformed unified diff: a hunk has no --- and +++ file lines');
    }
    const hunks = entry.hunks.map((h, i) => convertHunk(h, i + 1, entry.newFileName as string));
    files.push({
      oldPath: entry.oldFileName,
      newPath: entry.newFileName,
      change: changeOf(entry.oldFileName, entry.oldHeader, entry.newFileName, entry.newHeader, hunks),
      hunks,
    });
  }
  if (files.length === 0) throw new DjbError('E_PATCH', 'no file changes found (no --- / +++ / @@ lines)');
  return files;
}

function changeOf(
  oldPath: string,
  oldHeader: string | undefined,
  newPath: string,
  newHeader: string | undefined,
  hunks: Hunk[],
): FileChange {
  const only = hunks.length === 1 ? hunks[0] : undefined;
  if (oldPath === DEV_NULL) return 'create';
  if (newPath === DEV_NULL) return 'delete';
  if (only && only.oldLines === 0 && only.oldStart === 0 && EPOCH_HEADER.test(oldHeader ?? '')) return 'create';
  if (only && only.newLines === 0 && only.newStart === 0 && EPOCH_HEADER.test(newHeader ?? '')) return 'delete';
  return 'modify';
}

/**
 * jsdiff keeps the raw lines; this gives each line its terminator, honouring
 * `\ No newline at end of file` (which applies to the line before it, on that
 * line's side or sides), and undoes jsdiff's +1 on empty-side start numbers.
 */
function convertHunk(h: JsdiffHunk, number: number, file: string): Hunk {
  const lines: HunkLine[] = [];
  for (const raw of h.lines) {
    const mark = raw[0];
    if (mark === '\\') {
      const prev = lines[lines.length - 1];
      if (!prev) throw new DjbError('E_PATCH', `malformed unified diff: ${file}: hunk ${number} starts with "\\"`);
      prev.text = prev.text.replace(/\n$/, '');
      continue;
    }
    const body = raw.slice(1) + '\n';
    if (mark === '+') lines.push({ op: 'add', text: body });
    else if (mark === '-') lines.push({ op: 'remove', text: body });
    else lines.push({ op: 'context', text: body });
  }
  return {
    oldStart: h.oldLines === 0 ? h.oldStart - 1 : h.oldStart,
    oldLines: h.oldLines,
    newStart: h.newLines === 0 ? h.newStart - 1 : h.newStart,
    newLines: h.newLines,
    lines,
  };
}
