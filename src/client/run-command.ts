import { BunkerError } from "./errors.ts";
import type { ExecExit, ExecHandle } from "./exec-handle-types.ts";
import type { ExecCommand, ExecOptions } from "./exec-options.ts";

/** Options of `session.run`: those of `exec`, with `input` in place of `stdin`. */
export type RunOptions = Omit<ExecOptions, "stdin"> & {
  /** Written to the command's stdin, then end of file. Without it the command's stdin is closed. */
  input?: string | Uint8Array;
};

/** A command run to its end: its exit facts, with its whole output as text. */
export type RunResult = ExecExit & {
  stdout: string;
  /** Empty for PTY execs, whose terminal has one output stream. */
  stderr: string;
};

/**
 * Runs a command to its end and gives its exit with its output as text, as E2B's `commands.run`
 * does: for the many calls that want the result, not the stream. A non-zero code, a timeout or a
 * signal is a result; a refusal (bad `cwd`, `limit_exceeded`...) rejects with the BunkerError.
 * So is a command that ends before it has read all of `input` (`head -c 1`, `grep -q`): the rest
 * of the input is dropped, as a shell pipeline drops it. The output is kept whole in memory:
 * stream a command whose output is large with `exec`.
 */
export async function runCommand(exec: (command: ExecCommand, options: ExecOptions) => ExecHandle, command: ExecCommand, options: RunOptions = {}): Promise<RunResult> {
  const { input, ...execOptions } = options;
  const handle = exec(command, { ...execOptions, ...(input !== undefined && { stdin: true }) });
  // Every promise is awaited together: a refused exec rejects them all, and none is left unhandled.
  const [stdout, stderr, exit] = await Promise.all([
    handle.stdout.readAllText(),
    handle.stderr.readAllText(),
    handle.exited,
    input !== undefined ? handle.end(input).catch(unlessExited) : undefined,
  ]);
  return { ...exit, stdout, stderr };
}

/**
 * Lets a stdin write fail quietly when the exec has exited before taking it all (`invalid_state`):
 * the exit is the result. Anything else (a refused exec, a closed connection) is rethrown, and
 * `exited` rejects with it too.
 */
function unlessExited(error: unknown): void {
  if (error instanceof BunkerError && error.code === "invalid_state") return;
  throw error;
}
