/**
 * Bun.spawn with a terminal connects the command's stdio to the PTY but makes it neither a session
 * leader nor gives it a controlling terminal. Without one, an interactive shell has no job control
 * (Ctrl-C would end the shell rather than its foreground job) and a resize sends SIGWINCH to nobody.
 * util-linux's `setsid --ctty` makes the command a session leader whose controlling terminal is its
 * stdin, then execs it (same pid); it is on every Linux. macOS has no setsid(1): a PTY exec there
 * runs without a controlling terminal (see docs/seatbelt.md).
 */
let setsidPath: string | null | undefined;

function findSetsid(): string | null {
  setsidPath ??= process.platform === "linux" ? (Bun.which("setsid", { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" }) ?? null) : null;
  return setsidPath;
}

/** The argv that runs `argv` with the PTY as its controlling terminal, where the host can. */
export function withControllingTerminal(argv: string[], pty: boolean): string[] {
  return [...controllingTerminalPrefix(pty), ...argv];
}

/**
 * The words to put before a command so that it gets the PTY as its controlling terminal. Under bwrap
 * they go inside the sandbox, right before the command: the terminal's signals (Ctrl-C's SIGINT,
 * and the SIGHUP of a session leader that exits) then reach only the command's own session, never
 * bwrap itself. With setsid outside, Ctrl-C also killed bwrap, whose exit hung up the command, so
 * a Ctrl-C sometimes ended it with SIGHUP instead of SIGINT.
 */
export function controllingTerminalPrefix(pty: boolean): string[] {
  const setsid = pty ? findSetsid() : null;
  return setsid ? [setsid, "--ctty"] : [];
}
