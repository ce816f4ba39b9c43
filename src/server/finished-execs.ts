import type { ExecRecord } from "./exec-record.ts";
import type { ServerLimits } from "./options.ts";

interface Finished {
  record: ExecRecord;
  heldBytes: number;
  requestBytes: number;
}

/**
 * A session's finished execs, oldest first. Their output is kept up to a budget and their records
 * up to a count and a size of requests, the oldest going first. Kept as a queue with running
 * totals, so that an exit costs the same whether the session has run ten commands or ten thousand.
 */
export class FinishedExecs {
  readonly #queue: Finished[] = [];
  /** Output the queue's records still hold. */
  #heldBytes = 0;
  /** The first this many of the queue have had their output discarded. */
  #discarded = 0;
  /**
   * The requests the queue's records keep, serialised, in UTF-8 bytes as `execs` and `hello` carry
   * them: a string's length undercounted non-ASCII requests threefold (found by a review).
   */
  #requestBytes = 0;

  constructor(private readonly limits: Pick<ServerLimits, "retainedOutputBytes" | "retainedExecs" | "retainedRequestBytes">) {}

  /** Adds an exec that has just finished; `forget` is called with each record that goes for good. */
  add(record: ExecRecord, forget: (gone: ExecRecord) => void): void {
    const { retainedOutputBytes, retainedExecs, retainedRequestBytes } = this.limits;
    const queue = this.#queue;
    const requestBytes = Buffer.byteLength(record.fingerprint);
    queue.push({ record, heldBytes: record.heldBytes, requestBytes });
    this.#heldBytes += record.heldBytes;
    this.#requestBytes += requestBytes;
    while (this.#heldBytes > retainedOutputBytes && this.#discarded < queue.length) {
      const oldest = queue[this.#discarded++]!;
      oldest.record.discardOutput();
      this.#heldBytes -= oldest.heldBytes;
    }
    // Records go by count, and by the size of their requests: a session of large commands (files
    // written through heredocs) must not grow without bound, nor its `execs` and resumed `hello`.
    while (queue.length > retainedExecs || (this.#requestBytes > retainedRequestBytes && queue.length > 0)) {
      const gone = queue.shift()!;
      if (this.#discarded > 0) this.#discarded--;
      else this.#heldBytes -= gone.heldBytes;
      this.#requestBytes -= gone.requestBytes;
      forget(gone.record);
    }
  }
}
