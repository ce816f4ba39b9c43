/** What the liveness watch keeps of a socket: when the server last heard from it, and last pinged it. */
export interface LivenessMarks {
  heardAtMs: number;
  pingedAtMs: number;
}

/** The part of a ServerWebSocket the watch uses. */
export interface WatchedSocket {
  readonly data: LivenessMarks;
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
 */
export function watchLiveness(sockets: Iterable<WatchedSocket>, idleTimeoutMs: number, now: () => number = () => performance.now()): { stop(): void } {
  const sweep = () => {
    const at = now();
    for (const socket of sockets) {
      const marks = socket.data;
      const silentMs = at - marks.heardAtMs;
      if (silentMs >= idleTimeoutMs) {
        socket.terminate();
      } else if (silentMs >= idleTimeoutMs / 2 && marks.pingedAtMs <= marks.heardAtMs) {
        marks.pingedAtMs = at;
        socket.ping();
      }
    }
  };
  // An eighth of the timeout: a dead peer goes at most that much after the timeout.
  const timer = setInterval(sweep, Math.max(1000, idleTimeoutMs / 8));
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}
