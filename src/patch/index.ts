export { parsePatch, DEV_NULL } from './parse.js';
export { patchDescription } from './describe.js';
export { applyFilePatch, applyToText, displayName } from './apply.js';
export { chooseStrip, stripPath, targetPath, patchedPath, DEFAULT_STRIP } from './strip.js';
export type { FilePatch, FileChange, Hunk, HunkLine, FileApplyResult } from './types.js';
