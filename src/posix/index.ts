export { PosixError } from './libc.js';
export * from './calls.js';
export * from './exec.js';
export * as fsx from './fsx.js';
export * from './proc.js';
export * from './execprep.js';
