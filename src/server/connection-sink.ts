import type { ServerWebSocket } from "bun";
import { CLOSE_CODES } from "../protocol/index.ts";
import { errorCodeOf } from "./metrics-sink.ts";

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
  /** A viewer's socket: its subscriptions never pace a command (output-log.ts, LogReader.paces). */
  readonly viewer?: boolean;
}

/**
 * Bun.serve drops frames silently once its own limit is queued for a slow client, so output must
 * stop being sent well before that: every send checks the queue, and past the high-water mark
 * output waits for `drain` (in the exec's log, which in turn holds the child).
 */
/** A sink that is also the session's handle on its socket (see SessionConnection in session.ts). */
export interface SocketSink extends ConnectionSink {
  readonly sink: ConnectionSink;
  /** Set once, when the socket joins as a viewer, before anything subscribes it. */
  viewer: boolean;
  /** Closes the socket. */
  close(code: number, reason: string): void;
  /**
   * What was handed to the socket so far, in bytes (text by its UTF-8 size): with the amount still
   * buffered, how far the peer has taken what it was sent (see liveness.ts).
   */
  readonly handedBytes: number;
}

/** `onErrorSent` counts the `error` messages sent, by code (for /metrics). */
export function createConnectionSink(ws: ServerWebSocket<unknown>, onErrorSent?: (code: string) => void): SocketSink {
  return new WebSocketSink(ws, onErrorSent);
}

/** A class rather than a closure per method: one of these lives as long as every socket, idle or not. */
class WebSocketSink implements SocketSink {
  /** Set when the socket joins as a viewer, before anything subscribes it. */
  viewer = false;
  #closed = false;
  #handed = 0;
  #waiting: PromiseWithResolvers<void> | undefined;

  constructor(
    private readonly ws: ServerWebSocket<unknown>,
    private readonly onErrorSent: ((code: string) => void) | undefined,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  get handedBytes(): number {
    return this.#handed;
  }

  /** The sink is its own connection handle: no second object per socket. */
  get sink(): ConnectionSink {
    return this;
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  send(text: string): void {
    if (this.#closed) return;
    if (this.onErrorSent) {
      const code = errorCodeOf(text);
      if (code !== undefined) this.onErrorSent(code);
    }
    // Its UTF-8 size, which is what the socket queues (getBufferedAmount): by length, a slow reader
    // of non-ASCII text seemed to take less than it did (see liveness.ts). ~1.5 µs for 64 KiB.
    this.#handed += Buffer.byteLength(text);
    this.#afterSend(this.ws.send(text));
  }

  sendBinaryPair(header: Uint8Array<ArrayBuffer>, payload: Uint8Array): void {
    if (this.#closed) return;
    const ws = this.ws;
    this.#handed += header.byteLength + payload.byteLength;
    const status = ws.cork(() => {
      ws.sendBinary(header);
      return ws.sendBinary(payload as Uint8Array<ArrayBuffer>);
    });
    this.#afterSend(status);
  }

  congestion(): Promise<void> | undefined {
    return this.#closed ? undefined : this.#waiting?.promise;
  }

  onDrain(): void {
    if (this.#waiting && this.ws.getBufferedAmount() < LOW_WATER_BYTES) this.#release();
  }

  onClose(): void {
    this.#closed = true;
    this.#release();
  }

  #release(): void {
    const current = this.#waiting;
    this.#waiting = undefined;
    current?.resolve();
  }

  #afterSend(status: number): void {
    if (status !== -1 && this.ws.getBufferedAmount() <= HIGH_WATER_BYTES) return;
    this.#waiting ??= Promise.withResolvers<void>();
    if (this.ws.getBufferedAmount() > HARD_LIMIT_BYTES) {
      this.#closed = true;
      // Not inside the send: Bun runs the close handler within ws.close() (the socket leaves its
      // session), and whoever is sending is still in the middle of its own work. Nothing more is
      // sent meanwhile (closed above).
      queueMicrotask(() => this.ws.close(CLOSE_CODES.backpressureLimit, "the client does not read what it is sent"));
      this.#release();
    }
  }
}
