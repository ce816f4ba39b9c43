import type { ServerWebSocket } from "bun";
import type { OutputSink } from "../exec/output-pump.ts";
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

/** An OutputSink over one WebSocket, with the congestion state the pumps wait on. */
export interface ConnectionSink extends OutputSink {
  /** Call from the server's `drain` handler. */
  onDrain(): void;
  /** Call from the `close` handler: sends become no-ops and waiters are released. */
  onClose(): void;
  readonly closed: boolean;
}

/**
 * Bun.serve drops frames silently once its own limit is queued for a slow client, so output must
 * stop being read well before that: every send checks the queue, and past the high-water mark the
 * pumps wait for `drain`.
 */
export function createConnectionSink(ws: ServerWebSocket<unknown>): ConnectionSink {
  let closed = false;
  let waiting: { promise: Promise<void>; resolve: () => void } | undefined;

  const release = () => {
    const current = waiting;
    waiting = undefined;
    current?.resolve();
  };

  return {
    get closed() {
      return closed;
    },
    send(text) {
      if (closed) return;
      const status = ws.send(text);
      if (status === -1 || ws.getBufferedAmount() > HIGH_WATER_BYTES) {
        waiting ??= Promise.withResolvers<void>();
        if (ws.getBufferedAmount() > HARD_LIMIT_BYTES) {
          closed = true;
          ws.close(CLOSE_CODES.backpressureLimit, "the client does not read what it is sent");
          release();
        }
      }
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
