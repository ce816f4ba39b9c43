import type { FileSink } from "bun";

/**
 * The server's one writer to fd 2, created on first use. Not process.stderr: creating that Node
 * stream measured 1.5 to 2.5 ms of the binary's start to "listening" and 1.3 MiB of its idle RSS,
 * and the server never needs it. Both write through the same kind of non-blocking sink: a full
 * pipe queues the text rather than stalling the server, and a process.exit drops what is still
 * queued, as before. The logger and serve's token line both write through here, so their lines
 * keep their order.
 */
let sink: FileSink | undefined;

/** Writes `text` to stderr now (or queues it behind what the pipe has not taken yet). */
export function writeStderr(text: string): void {
  sink ??= Bun.stderr.writer();
  try {
    sink.write(text);
    sink.flush();
  } catch (error) {
    // A closed stderr (EPIPE) ends the process, as process.stderr's unhandled "error" event did;
    // thrown from a task of its own, so that the code that logged is not cut short.
    setImmediate(() => {
      throw error;
    });
  }
}
