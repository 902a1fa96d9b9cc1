export { DjbError, ERROR_CODES, describeCause, ioError } from './errors.js';
export type { ErrorCode, DjbErrorOptions } from './errors.js';
export { EXIT_OK, EXIT_PERMANENT, EXIT_TEMPORARY } from './exit.js';
export { Root, inside, shellQuote } from './root.js';
export type { Io, Output } from './io.js';
