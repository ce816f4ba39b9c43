/**
 * The shell a tab runs: bash when the sandbox has it, else /bin/sh, interactive either way. The
 * server runs `cmd` as `["/bin/sh", "-c", cmd]`, so this is the only shell line the page sends.
 */
export const SHELL_COMMAND = "if command -v bash >/dev/null 2>&1; then exec bash -i; else exec /bin/sh -i; fi";

/** The server's default TERM is `dumb`; on a PTY with xterm.js at the other end it is this. */
export const SHELL_ENV: Record<string, string> = { TERM: "xterm-256color", COLORTERM: "truecolor" };

/** A fresh exec id for a shell: unique within its session, however many shells came before. */
export function newShellId(now: number = Date.now()): string {
  return `shell-${now.toString(36)}`;
}
