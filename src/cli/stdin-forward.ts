import { BunkerError, type ExecHandle } from "../client/index.ts";

/** The handles stdin goes to: the one now, and the one that follows the exec after a reconnect. */
export interface StdinTarget {
  current(): ExecHandle | undefined;
  /** The handle after `after`, once there is one; undefined when none will come. */
  next(after: ExecHandle): Promise<ExecHandle | undefined>;
}

/**
 * Local stdin to the command, then end of file; paced by the server's stdin credit (the library's
 * write waits), so a command that reads slowly gets all of it, beside any other writer of the exec.
 * A write cut off by a dropped connection is made again on the handle of the reconnect, and
 * `onRetry` (if given) is told. Stops quietly once the command no longer takes stdin: its exit (or
 * failure) is reported elsewhere.
 */
export async function forwardStdin(input: NodeJS.ReadStream, target: StdinTarget, onRetry?: () => void): Promise<void> {
  let handle = target.current();
  try {
    for await (const chunk of input) {
      handle = await deliver(handle, target, (to) => to.write(chunk as Uint8Array), onRetry);
      if (!handle) return;
    }
    handle = await deliver(handle, target, (to) => to.end(), onRetry);
  } finally {
    input.pause();
  }
  // End of file again on every later connection: one lost with a dropped socket would leave the
  // command waiting forever, and one the server already has is refused (invalid_state), quietly.
  while (handle && (handle = await target.next(handle))) await handle.end().catch(() => {});
}

/** Sends on `handle`, or on the next one while connections drop; the handle it went to, or undefined. */
async function deliver(handle: ExecHandle | undefined, target: StdinTarget, send: (to: ExecHandle) => Promise<void>, onRetry: (() => void) | undefined): Promise<ExecHandle | undefined> {
  while (handle) {
    try {
      await send(handle);
      return handle;
    } catch (error) {
      // Not (wholly) handed to the socket: the whole chunk goes again on the next connection; a piece
      // of it already handed over (when credit split it) then arrives twice. What a dropped socket had
      // taken but not delivered is lost: the server tells a new socket how far the command has read,
      // not what the old one sent.
      if (error instanceof BunkerError && error.code === "connection_closed") {
        handle = await target.next(handle);
        if (handle) onRetry?.();
        continue;
      }
      // The command exited, or refused the write (printed at the end). Stdin still ends, so that a
      // command that runs on is not left waiting for more.
      await handle.end().catch(() => {});
      return undefined;
    }
  }
  return undefined;
}
