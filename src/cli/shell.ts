import { printOutput } from "./broken-pipe.ts";
import { runRemoteCommand } from "./exec.ts";
import { SHELL_HELP, parseExecArgs } from "./exec-args.ts";

/**
 * A login shell: bash where the sandbox has it, else sh. A fixed line, never built from input.
 * SHELL is set to the shell chosen (unless `-e SHELL=...` gave one): commands get no SHELL from
 * the server, and bash then takes the one of its uid's passwd entry, /usr/sbin/nologin for nobody,
 * which programs that start "the user's shell" (tmux, vim's :shell, make) would run. It is set
 * here rather than in the exec's env because only the sandbox knows which shell it has, and where.
 */
export const LOGIN_SHELL_LINE =
  'if command -v bash >/dev/null 2>&1; then SHELL="${SHELL:-$(command -v bash)}"; export SHELL; exec bash -l; fi; SHELL="${SHELL:-$(command -v sh)}"; export SHELL; exec sh -l';

/** `bunker shell`: `bunker exec -t` with a login shell unless a command is given. */
export async function runShellCommand(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const settings = parseExecArgs(args, env, { shell: true });
  if (settings === "help") return printOutput(SHELL_HELP);
  return runRemoteCommand(settings, settings.argv.length > 0 ? settings.argv : LOGIN_SHELL_LINE);
}
