export { PosixError } from './libc.js';
export * from './calls.js';
export * from './chain.js';
export * from './proc.js';
