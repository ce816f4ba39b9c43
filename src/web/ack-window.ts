/** Bytes the server may send past the last ack: what can wait unrendered in the page at most. */
export const ACK_WINDOW_BYTES = 512 * 1024;

/** Acknowledges rendered output, at most once per quarter window so that echo keystrokes cost no ack. */
export interface AckTracker {
  /** xterm has rendered the stream up to `offset`. */
  rendered(offset: number): void;
  /** A fresh attach or exec: the server counts from `offset` as acknowledged. */
  reset(offset: number): void;
}

/**
 * Flow control by acknowledgement, as ttyd does it: the page acks what xterm has rendered (the
 * callback of `term.write`), not what it has received. A command that writes faster than the page
 * renders (`yes`) then waits in the server's window instead of piling up in the page's memory, and
 * the server holds at most `windowBytes` per stream for this page.
 *
 * Acking every quarter window cannot stall: a server that stopped sending has a full window out,
 * and once that renders, a full window is unacked, which is more than a quarter.
 */
export function createAckTracker(windowBytes: number, sendAck: (offset: number) => void): AckTracker {
  const step = Math.max(1, Math.floor(windowBytes / 4));
  let acked = 0;
  return {
    rendered(offset) {
      if (offset - acked < step) return;
      acked = offset;
      sendAck(offset);
    },
    reset(offset) {
      acked = offset;
    },
  };
}
