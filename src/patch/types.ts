/** One line of a hunk body; `text` carries its line terminator unless the patch marks "No newline at end of file". */
export interface HunkLine {
  op: 'context' | 'remove' | 'add';
  text: string;
}

/**
 * One `@@ -oldStart,oldLines +newStart,newLines @@` block. Start numbers are
 * exactly as written in the header (1-based; for an empty side, the line
 * before which the text sits, as diff writes it).
 */
export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: HunkLine[];
}

export type FileChange = 'modify' | 'create' | 'delete';

/** One file's part of a unified diff, paths as written (prefix not stripped). */
export interface FilePatch {
  oldPath: string;
  newPath: string;
  change: FileChange;
  hunks: Hunk[];
}

/** What applying one file's hunks found: `already-applied` means the text was left unchanged. */
export interface FileApplyResult {
  status: 'applied' | 'already-applied';
  /** The file's new text; `undefined` when the patch deletes the file. */
  text: string | undefined;
}
