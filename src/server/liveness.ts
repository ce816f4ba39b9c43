/** What the liveness watch keeps of a socket: when the server last heard from it, and last pinged it. */
export interface LivenessMarks {
  heardAtMs: number;
  pingedAtMs: number;
  /** How many bytes the peer had taken at the last sweep, or -1 when nothing waited for it then. */
  takenAtSweep: number;
}

/** The part of a ServerWebSocket the watch uses. */
export interface WatchedSocket {
  readonly data: LivenessMarks & { readonly sink?: { readonly handedBytes: number } | undefined };
  getBufferedAmount(): number;
  ping(): unknown;
  terminate(): void;
}

/**
 * Lets go of sockets the server has heard nothing from (no message, no pong) for `idleTimeoutMs`,
 * pinging each once when half of that has passed. Bun's own idle timeout does this only for a
 * socket that is quiet both ways: its timer restarts on every send, so a peer that vanished without
 * a FIN (a NAT or proxy dropping it) stayed "connected" for as long as a command printed to it, and
 * its session never counted as detached (found by a user audit: still open after 257 s). The socket
 * is terminated without a close frame, as Bun's timeout does: the peer is gone, a close frame could
 * only wait in a dead send queue.
 *
 * A peer on a slow link is alive but may not answer in time: the ping waits behind the output
 * queued for it (a review measured a client reading at 128 KB/s cut after 22 s). So a socket that
 * has output waiting and whose peer took bytes since the last sweep counts as heard from: its TCP
 * acknowledged them. A dead peer takes nothing, and with output waiting nothing is handed to the
 * kernel; with nothing waiting, bytes only entered the kernel's buffer, which says nothing of the peer.
 */
export function watchLiveness(sockets: Iterable<WatchedSocket>, idleTimeoutMs: number): { stop(): void } {
  // An eighth of the timeout: a dead peer goes at most that much after the timeout.
  const timer = setInterval(() => sweepLiveness(sockets, idleTimeoutMs, performance.now()), Math.max(1000, idleTimeoutMs / 8));
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}

/** One look at every socket at time `at` (see watchLiveness). */
export function sweepLiveness(sockets: Iterable<WatchedSocket>, idleTimeoutMs: number, at: number): void {
  for (const socket of sockets) {
    const marks = socket.data;
    const waiting = socket.getBufferedAmount();
    const taken = waiting > 0 && marks.sink ? marks.sink.handedBytes - waiting : -1;
    if (taken >= 0 && marks.takenAtSweep >= 0 && taken > marks.takenAtSweep) marks.heardAtMs = at;
    marks.takenAtSweep = taken;
    const silentMs = at - marks.heardAtMs;
    if (silentMs >= idleTimeoutMs) {
      socket.terminate();
    } else if (silentMs >= idleTimeoutMs / 2 && marks.pingedAtMs <= marks.heardAtMs) {
      marks.pingedAtMs = at;
      socket.ping();
    }
  }
}
