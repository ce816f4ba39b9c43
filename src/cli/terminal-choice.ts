import type { ExecSettings } from "./exec-args.ts";

/** How `bunker exec` (and `bunker shell`) wires the local stdin and terminal to the command. */
export interface TerminalChoice {
  /** The command runs on a PTY. */
  pty: boolean;
  /** Local stdin goes to the command: as keystrokes on a PTY, else as its stdin pipe. */
  stdinForwarded: boolean;
  /** The local terminal goes into raw mode, every key forwarded as it is typed. */
  rawMode: boolean;
  /** Said on stderr before the command starts: -t was not followed, and why. */
  warning: string | undefined;
}

/** What bunker says when -t (or bunker shell) gets a stdin that is not a terminal. */
export const NO_TERMINAL_WARNING = "stdin is not a terminal: the command runs without one, so that the end of its input reaches it (-tt forces one)";

/**
 * Decides from the flags and what local stdin is. With -t, a forwarded stdin that is not a
 * terminal (a pipe, a file, /dev/null) drops the PTY, as ssh and kubectl do: a terminal has no end
 * of file, only ^D, which a program ignores unless it is reading a line at its start, so an
 * interactive shell fed a script by a pipe, or `printf x | bunker exec -t -- cat`, waited forever.
 * -tt keeps the PTY. Only stdin counts: with stdout redirected (`-t cmd > log`) keys still come
 * from the local terminal, and the output is the terminal's, as the user asked.
 */
export function chooseTerminal(settings: Pick<ExecSettings, "tty" | "stdin">, stdinIsTerminal: boolean): TerminalChoice {
  const stdinForwarded = settings.stdin === "always" || (settings.stdin === "auto" && (settings.tty !== "never" || !stdinIsTerminal));
  const pty = settings.tty === "always" || (settings.tty === "auto" && (stdinIsTerminal || !stdinForwarded));
  return {
    pty,
    stdinForwarded,
    rawMode: pty && stdinForwarded && stdinIsTerminal,
    warning: settings.tty === "auto" && !pty ? NO_TERMINAL_WARNING : undefined,
  };
}
