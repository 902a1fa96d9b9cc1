import type { Root } from './root.js';

/** Where a command's text goes. Only cli/ and bin/ write to these. */
export interface Output {
  write(text: string): void;
  /** True when this stream is a terminal (progress bars only then). */
  readonly isTTY: boolean;
}

/**
 * The capabilities a djbpkg command is given. Only bin/ builds the real ones;
 * tests build their own.
 */
export interface Io {
  root: Root;
  env: Readonly<Record<string, string | undefined>>;
  stdout: Output;
  stderr: Output;
  /** Current time in ms since the epoch. */
  now(): number;
}
