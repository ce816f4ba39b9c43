import { constants } from "node:os";

/** What a shell shows for a process killed by SIGPIPE: bunker's status when the reader of its output went away (`| head`). */
export const BROKEN_PIPE_EXIT = 128 + constants.signals.SIGPIPE;

/** The status for a write error: 141 when the reader went away (EPIPE), `otherStatus` for any other. */
function outputErrorStatus(error: NodeJS.ErrnoException, otherStatus: number): number {
  return error.code === "EPIPE" ? BROKEN_PIPE_EXIT : otherStatus;
}

/**
 * Watches stdout and stderr for write errors from now until the process exits, and resolves with
 * the status to exit with at the first: 141 for EPIPE, `otherStatus` for any other. Node and Bun
 * report a failed write as an `error` event, which ends the process with a stack trace when no one
 * listens; the listeners stay, since the event may come after the write's callback.
 */
export function watchOutputErrors(otherStatus: number): Promise<number> {
  const failed = Promise.withResolvers<number>();
  const onError = (error: NodeJS.ErrnoException) => failed.resolve(outputErrorStatus(error, otherStatus));
  process.stdout.on("error", onError);
  process.stderr.on("error", onError);
  return failed.promise;
}

/** Resolves once what was written to `out` so far has been handed on, or has failed. */
export function flushed(out: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => out.write("", () => resolve()));
}

/**
 * Prints the whole output of a one-shot command (config, doctor, --help, --version) and resolves
 * with the status to exit with: `status` once written, 141 when the reader went away first
 * (`bunker config | head -2`), quietly, as `bunker exec` ends then. 1 for any other write error.
 */
export function printOutput(text: string, status = 0): Promise<number> {
  const failed = watchOutputErrors(1);
  const written = new Promise<number>((resolve) => process.stdout.write(text, (error) => resolve(error ? outputErrorStatus(error, 1) : status)));
  return Promise.race([written, failed]);
}
