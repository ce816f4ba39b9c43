import { expect, test } from "bun:test";
import type { ExecSettings } from "../../src/cli/exec-args.ts";
import { NO_TERMINAL_WARNING, chooseTerminal } from "../../src/cli/terminal-choice.ts";

const choose = (tty: ExecSettings["tty"], stdin: ExecSettings["stdin"], stdinIsTerminal: boolean) => chooseTerminal({ tty, stdin }, stdinIsTerminal);

test("-t on a local terminal: a PTY, raw mode, every key forwarded", () => {
  expect(choose("auto", "auto", true)).toEqual({ pty: true, stdinForwarded: true, rawMode: true, warning: undefined });
});

test("-t with stdin a pipe or a file: no PTY, the input forwarded with its end, and a warning that says so", () => {
  expect(choose("auto", "auto", false)).toEqual({ pty: false, stdinForwarded: true, rawMode: false, warning: NO_TERMINAL_WARNING });
  expect(choose("auto", "always", false)).toEqual({ pty: false, stdinForwarded: true, rawMode: false, warning: NO_TERMINAL_WARNING });
});

test("-tt with stdin a pipe: a PTY all the same, the input typed into it, no raw mode here", () => {
  expect(choose("always", "auto", false)).toEqual({ pty: true, stdinForwarded: true, rawMode: false, warning: undefined });
});

test("-t --no-stdin keeps the PTY whatever stdin is: nothing is forwarded, so no end is lost", () => {
  expect(choose("auto", "never", false)).toEqual({ pty: true, stdinForwarded: false, rawMode: false, warning: undefined });
  expect(choose("auto", "never", true)).toEqual({ pty: true, stdinForwarded: false, rawMode: false, warning: undefined });
});

test("without -t: a pipe is forwarded, a terminal only with -i (cooked, not raw)", () => {
  expect(choose("never", "auto", false)).toEqual({ pty: false, stdinForwarded: true, rawMode: false, warning: undefined });
  expect(choose("never", "auto", true)).toEqual({ pty: false, stdinForwarded: false, rawMode: false, warning: undefined });
  expect(choose("never", "always", true)).toEqual({ pty: false, stdinForwarded: true, rawMode: false, warning: undefined });
});
