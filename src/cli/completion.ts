import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../core/io.js';

/**
 * The hidden name under which index.ts registers yargs' completion machinery
 * (what answers `djbpkg --get-yargs-completions ...`). yargs' own completion
 * verb trips over `.strict()` when the process does not exit, so the verb
 * users type is `completionCommand` below.
 */
export const COMPLETION_MACHINERY = 'get-completion-script';

/**
 * `djbpkg completion`: prints yargs' bash completion script, which calls
 * `djbpkg --get-yargs-completions` as the user types. The script goes out
 * through the parser's output, captured like --help.
 */
export function completionCommand(_io: Io): CommandModule {
  let parser: Argv | undefined;
  return {
    command: 'completion',
    describe: 'print a bash completion script (add it to ~/.bashrc, or save it as /etc/bash_completion.d/djbpkg)',
    builder: (y) => {
      parser = y;
      return y;
    },
    handler: () => {
      // yargs takes ($0, command name) here; its types declare no parameters.
      (parser as unknown as { showCompletionScript(bin: string, cmd: string): void }).showCompletionScript('djbpkg', 'completion');
    },
  };
}
