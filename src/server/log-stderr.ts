import type { FileSink } from "bun";

/**
 * The server's one writer to fd 2, created on first use. Not process.stderr: creating that Node
 * stream measured 1.5 to 2.5 ms of the binary's start to "listening" and 1.3 MiB of its idle RSS,
 * and the server never needs it. Both write through the same kind of non-blocking sink: a full
 * pipe queues the text rather than stalling the server, and a process.exit drops what is still
 * queued. The logger and serve's token line both write through here, so their lines
 * keep their order.
 */
let sink: FileSink | undefined;
/** Set once a write failed: stderr is gone (its reader closed it), and later lines are dropped. */
let broken = false;

/**
 * Writes `text` to stderr now (or queues it behind what the pipe has not taken yet). A stderr that
 * can no longer be written (EPIPE: `bunker serve 2>&1 | head`, a log collector that went away, a
 * closed terminal) costs the log, not the server: the first failed write ended the process with
 * every session in it, its processes left running and its workspaces on disk (found by a crash
 * hunt). Lines from then on are dropped.
 */
export function writeStderr(text: string): void {
  if (broken) return;
  sink ??= Bun.stderr.writer();
  try {
    sink.write(text);
    // A full pipe makes flush a promise, which rejects with EPIPE if the reader goes away while it
    // waits: unhandled, that ended the process all the same (found by a review).
    const flushed: unknown = sink.flush();
    if (flushed instanceof Promise) {
      flushed.catch(() => {
        broken = true;
      });
    }
  } catch {
    broken = true;
  }
}
