import { MAX_PENDING_STDIN_BYTES, STDIN_ACK_STEP_BYTES } from "../protocol/limits.ts";

/**
 * What a writer that does not know where it counts from sends before its first `stdin.ack`: enough
 * that taking it moves the exec's stdin a whole ack step past the last ack (so that the ack comes),
 * and far enough below the bound that what stays counted leaves room for the acks that follow.
 */
export const UNCOUNTED_LIMIT_BYTES = 2 * STDIN_ACK_STEP_BYTES;

/**
 * How much of one writer's stdin may still wait in the server, from what it sent and the server's
 * `stdin.ack`, so that the writer stays under MAX_PENDING_STDIN_BYTES (past it a message is refused
 * and its bytes are lost). Shared by the client library and the page.
 *
 * `stdin.ack` counts the exec's stdin from its first byte, whoever wrote it, and a socket hears it
 * only once it has written. A writer that knows it sent the exec's first byte (it started the exec)
 * reads an ack as its own progress. Any other writer (an attach, a page after a reload or a
 * reconnect) does not know how many bytes came before its own. Until it hears an ack it sends at
 * most UNCOUNTED_LIMIT_BYTES; it takes that first ack as the point it counts from, and credits only
 * the growth after it. What it sent before that ack may have been taken already (a terminal reports
 * what it took in large steps), so up to UNCOUNTED_LIMIT_BYTES stay counted as waiting for good:
 * that costs room, never a refusal, and the rest of the bound keeps acks coming. Another writer's
 * bytes still waiting in the server are unknown to this one (PROTOCOL.md, stdin: each must leave
 * room for the others).
 */
export class StdinCredit {
  /** Bytes sent and not known to be taken. */
  #outstanding = 0;
  /** The offset of the last `stdin.ack`; undefined while the point this writer counts from is unknown. */
  #lastAck: number | undefined;

  /** `firstWriter`: this writer's bytes are the exec's first (it started the exec). */
  constructor(firstWriter: boolean) {
    this.#lastAck = firstWriter ? 0 : undefined;
  }

  /** Whether `bytes` more may be sent now. An empty message always may, and so may any one message when nothing is outstanding. */
  fits(bytes: number): boolean {
    const limit = this.#lastAck === undefined ? UNCOUNTED_LIMIT_BYTES : MAX_PENDING_STDIN_BYTES;
    return bytes === 0 || this.#outstanding === 0 || this.#outstanding + bytes <= limit;
  }

  /** `bytes` were handed to the socket. */
  sent(bytes: number): void {
    this.#outstanding += bytes;
  }

  /** A `stdin.ack`: the command has taken `offset` bytes of the exec's stdin in all. */
  acked(offset: number): void {
    if (this.#lastAck === undefined) {
      this.#lastAck = offset;
      return;
    }
    if (offset <= this.#lastAck) return;
    // Never below 0: growth beyond what this writer sent is someone else's bytes.
    this.#outstanding = Math.max(0, this.#outstanding - (offset - this.#lastAck));
    this.#lastAck = offset;
  }

  /** The writer learns that bytes came before its own (a resent exec that had run): count from the next ack. */
  countFromNextAck(): void {
    this.#lastAck = undefined;
  }

  /**
   * A new socket: what the old one sent may or may not have arrived (a drop loses what was in
   * flight, and no ack will ever come for it), so this writer starts counting afresh, as an attach does.
   */
  restart(): void {
    this.#outstanding = 0;
    this.#lastAck = undefined;
  }
}
