import type { ServerWebSocket } from "bun";
import { CLOSE_CODES } from "../protocol/index.ts";

/** Output waits once this much is queued for a client... */
export const HIGH_WATER_BYTES = 1024 * 1024;
/** ...and flows again once the queue has drained below this. */
export const LOW_WATER_BYTES = 256 * 1024;

/**
 * Past this much queued, the client is not reading even control messages (it floods requests and
 * never reads the replies): close it with 4008 rather than let Bun drop frames or cut it silently.
 */
export const HARD_LIMIT_BYTES = 32 * 1024 * 1024;

/** One WebSocket's outgoing side, with the congestion state that output waits on. */
export interface ConnectionSink {
  /** Sends one message, already serialised. */
  send(text: string): void;
  /** Sends a binary header frame and its payload frame in one write (see protocol/binary-frames.ts). */
  sendBinaryPair(header: Uint8Array<ArrayBuffer>, payload: Uint8Array): void;
  /** A promise that settles when the client can take more, or undefined when it can now. */
  congestion(): Promise<void> | undefined;
  /** Call from the server's `drain` handler. */
  onDrain(): void;
  /** Call from the `close` handler: sends become no-ops and waiters are released. */
  onClose(): void;
  readonly closed: boolean;
}

/**
 * Bun.serve drops frames silently once its own limit is queued for a slow client, so output must
 * stop being sent well before that: every send checks the queue, and past the high-water mark
 * output waits for `drain` (in the exec's log, which in turn holds the child).
 */
export function createConnectionSink(ws: ServerWebSocket<unknown>): ConnectionSink {
  let closed = false;
  let waiting: { promise: Promise<void>; resolve: () => void } | undefined;

  const release = () => {
    const current = waiting;
    waiting = undefined;
    current?.resolve();
  };

  const afterSend = (status: number) => {
    if (status !== -1 && ws.getBufferedAmount() <= HIGH_WATER_BYTES) return;
    waiting ??= Promise.withResolvers<void>();
    if (ws.getBufferedAmount() > HARD_LIMIT_BYTES) {
      closed = true;
      ws.close(CLOSE_CODES.backpressureLimit, "the client does not read what it is sent");
      release();
    }
  };

  return {
    get closed() {
      return closed;
    },
    send(text) {
      if (closed) return;
      afterSend(ws.send(text));
    },
    sendBinaryPair(header, payload) {
      if (closed) return;
      const status = ws.cork(() => {
        ws.sendBinary(header);
        return ws.sendBinary(payload as Uint8Array<ArrayBuffer>);
      });
      afterSend(status);
    },
    congestion() {
      return closed ? undefined : waiting?.promise;
    },
    onDrain() {
      if (waiting && ws.getBufferedAmount() < LOW_WATER_BYTES) release();
    },
    onClose() {
      closed = true;
      release();
    },
  };
}
