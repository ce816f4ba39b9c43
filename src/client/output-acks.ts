import type { OutputStream as OutputStreamName } from "../protocol/index.ts";
import type { ExecTransport } from "./exec-handle-types.ts";

/** What OutputAcks needs from the exec handle it acknowledges for. */
export interface OutputAcksHost {
  readonly id: string;
  readonly transport: ExecTransport;
  /** Whether the handle still follows the exec: one that has let go acknowledges nothing more. */
  live(): boolean;
}

/**
 * The reading side of an exec's ack window (`ackWindowBytes`): tells the server how far each output
 * stream has been read, so that it holds the command back only while a window of bytes waits unread.
 * Without a window it sends nothing.
 */
export class OutputAcks {
  readonly #acked: Record<OutputStreamName, number>;

  /** `start`: the offsets the handle starts reading from (0, or an attach's offsets). */
  constructor(
    private readonly host: OutputAcksHost,
    private readonly windowBytes: number | undefined,
    start: Record<OutputStreamName, number>,
  ) {
    this.#acked = { ...start };
  }

  /** Acknowledges read bytes once half the window is read: never more often, and never too late to stall the server. */
  consumed(stream: OutputStreamName, offset: number): void {
    const window = this.windowBytes;
    if (window === undefined || offset - this.#acked[stream] < window / 2) return;
    this.#acknowledge(stream, offset);
  }

  #acknowledge(stream: OutputStreamName, offset: number): void {
    if (!this.host.live() || offset <= this.#acked[stream]) return;
    this.#acked[stream] = offset;
    this.host.transport.send({ type: "ack", id: this.host.id, stream, offset });
  }
}
