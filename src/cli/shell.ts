import { printOutput } from "./broken-pipe.ts";
import { runRemoteCommand } from "./exec.ts";
import { SHELL_HELP, parseExecArgs } from "./exec-args.ts";

/** A login shell: bash where the sandbox has it, else sh. A fixed line, never built from input. */
export const LOGIN_SHELL_LINE = "if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l";

/** `bunker shell`: `bunker exec -t` with a login shell unless a command is given. */
export async function runShellCommand(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const settings = parseExecArgs(args, env, { shell: true });
  if (settings === "help") return printOutput(SHELL_HELP);
  return runRemoteCommand(settings, settings.argv.length > 0 ? settings.argv : LOGIN_SHELL_LINE);
}
