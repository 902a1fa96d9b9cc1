import type { Argv, CommandModule } from 'yargs';

/**
 * `djbpkg completion`: prints yargs' bash completion script, which calls
 * `djbpkg --get-yargs-completions` as the user types. yargs' own completion
 * command trips over `.strict()` when the process does not exit, so the
 * completion machinery is registered under a hidden name and this verb
 * prints the script through the parser's output (captured like --help).
 */
export function completionCommand(parser: Argv): CommandModule {
  parser.completion('get-completion-script', false);
  return {
    command: 'completion',
    describe: 'print a bash completion script (add it to ~/.bashrc, or save it as /etc/bash_completion.d/djbpkg)',
    handler: () => {
      // yargs takes ($0, command name) here; its types declare no parameters.
      (parser as unknown as { showCompletionScript(bin: string, cmd: string): void }).showCompletionScript('djbpkg', 'completion');
    },
  };
}
