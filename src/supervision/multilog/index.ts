export { LineEngine, LINE_LIMIT, STATUS_BYTES, STDERR_LIMIT } from './engine.js';
export { Arena, arenaSize } from './arena.js';
export { LogDir, BATCH, C_BUFFER, CUT_WINDOW } from './logdir.js';
export { matchLine } from './match.js';
export { MultilogFatal, Runtime, DEFAULT_PAUSE_MS, PAUSE_ENV } from './runtime.js';
export { parseScript, scanUlong, type Action, type DirSpec, type Script } from './script.js';
export { StampClock } from './stamp.js';
export { openStatusFiles } from './status.js';
