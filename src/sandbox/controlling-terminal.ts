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
  const setsid = pty ? findSetsid() : null;
  return setsid ? [setsid, "--ctty", ...argv] : argv;
}
