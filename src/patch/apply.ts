import { DjbError } from '../core/errors.js';
import { DEFAULT_STRIP, stripPath, patchedPath } from './strip.js';
import type { FileApplyResult, FilePatch, Hunk } from './types.js';

/** A text as lines that keep their terminators, so that joining them gives the text back byte for byte. */
function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g);
  return lines ?? [];
}

function side(hunk: Hunk, which: 'old' | 'new'): string[] {
  const skip = which === 'old' ? 'add' : 'remove';
  return hunk.lines.filter((l) => l.op !== skip).map((l) => l.text);
}

function matchesAt(lines: string[], at: number, want: string[]): boolean {
  if (at < 0 || at + want.length > lines.length) return false;
  for (let i = 0; i < want.length; i++) if (lines[at + i] !== want[i]) return false;
  return true;
}

/**
 * Where `want` occurs nearest to `expected`, searching outward (expected,
 * +1, -1, +2, ...) but never before `floor` (hunks apply in order and do
 * not overlap). Text that sits only at end of file (its last line has no
 * terminator) can only match there, which plain comparison ensures.
 */
function locate(lines: string[], want: string[], expected: number, floor: number): number | undefined {
  const last = lines.length - want.length;
  if (want.length === 0) return expected >= floor && expected <= lines.length ? expected : undefined;
  const start = Math.min(Math.max(expected, floor), Math.max(last, floor));
  for (let d = 0; start + d <= last || start - d >= floor; d++) {
    if (matchesAt(lines, start + d, want)) return start + d;
    if (d > 0 && start - d >= floor && matchesAt(lines, start - d, want)) return start - d;
  }
  return undefined;
}

/** Index (0-based) of the first old line of a hunk as its header states it. */
function statedIndex(start: number, count: number): number {
  return count === 0 ? start : start - 1;
}

type Outcome = { ok: true; lines: string[] } | { ok: false; hunk: number };

/** Applies hunks in order; the first one whose old text is nowhere to be found stops it. */
function applyHunks(lines: string[], hunks: Hunk[], reverse: boolean): Outcome {
  const out: string[] = [];
  let consumed = 0;
  let offset = 0;
  for (let i = 0; i < hunks.length; i++) {
    const h = hunks[i] as Hunk;
    const from = side(h, reverse ? 'new' : 'old');
    const to = side(h, reverse ? 'old' : 'new');
    const stated = reverse ? statedIndex(h.newStart, h.newLines) : statedIndex(h.oldStart, h.oldLines);
    const at = locate(lines, from, stated + offset, consumed);
    if (at === undefined) return { ok: false, hunk: i + 1 };
    offset = at - stated;
    out.push(...lines.slice(consumed, at), ...to);
    consumed = at + from.length;
  }
  out.push(...lines.slice(consumed));
  return { ok: true, lines: out };
}

/** A file patch's display name at a strip level, for messages. */
export function displayName(file: FilePatch, strip: number = DEFAULT_STRIP): string {
  const written = patchedPath(file);
  return stripPath(written, strip) ?? written;
}

/**
 * Applies one file's hunks to its text. A hunk is found at its stated line
 * or the nearest shifted position. When the hunks do not apply but their
 * reverse does (every hunk's new text present where its old text is not),
 * the file is reported `already-applied` and its text returned unchanged.
 * Otherwise throws E_PATCH naming the file and the first hunk that failed.
 * For a created file pass `undefined` (absent) as `original`; for a deleted
 * file the result's text is `undefined`.
 */
export function applyFilePatch(original: string | undefined, file: FilePatch, strip: number = DEFAULT_STRIP): FileApplyResult {
  const name = displayName(file, strip);
  if (file.change === 'create') {
    const wanted = file.hunks.flatMap((h) => side(h, 'new')).join('');
    if (original === undefined) return { status: 'applied', text: wanted };
    if (original === wanted) return { status: 'already-applied', text: original };
    throw new DjbError('E_PATCH', `${name}: file to be created already exists with other contents`);
  }
  if (original === undefined) {
    if (file.change === 'delete') return { status: 'already-applied', text: undefined };
    throw new DjbError('E_PATCH', `${name}: file to patch does not exist`);
  }
  if (file.change === 'delete') {
    const expected = file.hunks.flatMap((h) => side(h, 'old')).join('');
    if (original === expected) return { status: 'applied', text: undefined };
    throw new DjbError('E_PATCH', `${name}: file to be deleted does not match the patch (hunk 1 does not apply)`);
  }
  const lines = splitLines(original);
  const forward = applyHunks(lines, file.hunks, false);
  if (forward.ok) return { status: 'applied', text: forward.lines.join('') };
  if (applyHunks(lines, file.hunks, true).ok) return { status: 'already-applied', text: original };
  throw new DjbError('E_PATCH', `${name}: hunk ${forward.hunk} does not apply`);
}

/**
 * The text of `original` with `file` applied (unchanged when already applied).
 * Throws E_PATCH naming the file and hunk that fails.
 */
export function applyToText(original: string, file: FilePatch, strip: number = DEFAULT_STRIP): string {
  return applyFilePatch(original, file, strip).text ?? '';
}
