import type { ExecRecord } from "./exec-record.ts";
import type { ServerLimits } from "./options.ts";

interface Finished {
  record: ExecRecord;
  /** The output counted against the budget for it: all it held, then, once discarded, what it still holds. */
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
   * Discarded ones that still hold output a socket is still to be sent (ExecRecord.discardOutput),
   * oldest first; usually none. Counted until it is sent: a socket that never takes it (an ack
   * window never acknowledged) kept a whole exec's output past the budget for each exec it started
   * (found by a review: 60 execs of 900 KB held 52 MB against a budget of 8 MiB).
   */
  readonly #lingering = new Set<Finished>();
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
    // What lingering ones hold only shrinks, as their sockets take it: count it as it is now.
    for (const entry of this.#lingering) this.#recount(entry);
    const requestBytes = record.fingerprint.bytes;
    const added: Finished = { record, heldBytes: record.heldBytes, requestBytes };
    queue.push(added);
    this.#heldBytes += record.heldBytes;
    this.#requestBytes += requestBytes;
    while (this.#heldBytes > retainedOutputBytes && this.#discarded < queue.length) {
      const oldest = queue[this.#discarded++]!;
      oldest.record.discardOutput("keep");
      this.#recount(oldest);
    }
    // Still over: the older execs' unsent output goes too, and their sockets learn of it as a gap.
    // Not the one just ended: a socket reading on, a little behind, is sent all of it.
    for (const entry of this.#lingering) {
      if (this.#heldBytes <= retainedOutputBytes) break;
      if (entry === added) continue;
      entry.record.discardOutput("drop");
      this.#recount(entry);
    }
    // Records go by count, and by the size of their requests: a session of large commands (files
    // written through heredocs) must not grow without bound, nor its `execs` and resumed `hello`.
    while (queue.length > retainedExecs || (this.#requestBytes > retainedRequestBytes && queue.length > 0)) {
      const gone = queue.shift()!;
      if (this.#discarded > 0) this.#discarded--;
      this.#heldBytes -= gone.heldBytes;
      this.#lingering.delete(gone);
      this.#requestBytes -= gone.requestBytes;
      forget(gone.record);
    }
  }

  /** Counts what a discarded exec holds now; lingering while that is anything. */
  #recount(entry: Finished): void {
    const held = entry.record.heldBytes;
    this.#heldBytes -= entry.heldBytes - held;
    entry.heldBytes = held;
    if (held > 0) this.#lingering.add(entry);
    else this.#lingering.delete(entry);
  }
}
