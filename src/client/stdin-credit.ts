import type { StdinAckMessage } from "../protocol/index.ts";
import { MAX_PENDING_STDIN_BYTES, STDIN_ACK_STEP_BYTES } from "../protocol/limits.ts";

/**
 * With a server that predates credit, what a writer that does not know where it counts from sends
 * before its first `stdin.ack`: enough that taking it moves the exec's stdin a whole ack step past
 * the last ack (so that the ack comes), and far enough below the bound that what stays counted
 * leaves room for the acks that follow.
 */
export const UNCOUNTED_LIMIT_BYTES = 2 * STDIN_ACK_STEP_BYTES;

/**
 * The answer a server that predates credit gives to `credit: true` (a `stdin` with neither data
 * nor eof was all it knew): `bad_message` with this text, which such a server never changes.
 */
export const PRE_CREDIT_REFUSAL = "stdin needs data, eof: true, or both";

type State = "unasked" | "asking" | "granted" | "legacy";

/**
 * How much of an exec's stdin one writer (one socket) may send now, so that the server never
 * refuses it (past MAX_PENDING_STDIN_BYTES waiting, a message is refused and its bytes are lost).
 * Shared by the client library and the page.
 *
 * The writer asks for credit (`stdin` with `credit: true`) before its first byte, and sends
 * nothing until the answer: a `stdin.ack` with `received`, its own bytes as the server counts them,
 * and `limit`, how many it may have sent in all. Later acks raise `limit`. The server hands out
 * limits so that what waits plus what is granted stays within the bound, whoever wrote before (an
 * earlier socket of the same program, a page before its reload) and however many write at once:
 * the count is exact, first writer or not. Told `contended` (another writer waits for room this one
 * holds), the writer asks again once it is idle or out of credit, which gives back what it does
 * not use.
 *
 * A server that predates credit answers the request with PRE_CREDIT_REFUSAL (`refused`), and the
 * writer paces by `offset` as such a server expects: a writer that knows it sent the exec's first
 * byte reads an ack as its own progress; any other sends at most UNCOUNTED_LIMIT_BYTES until its
 * first ack, takes that ack as the point it counts from, and credits only the growth after it.
 */
export class StdinCredit {
  #state: State = "unasked";
  /** Bytes this writer handed to its socket for the exec, in the server's count once answered. */
  #sent = 0;
  #limit = 0;
  #contended = false;
  /** Without credit: bytes sent and not known to be taken. */
  #outstanding = 0;
  /** Without credit: the offset of the last `stdin.ack`; undefined while the point this writer counts from is unknown. */
  #lastAck: number | undefined;

  /** `firstWriter`: this writer's bytes are the exec's first (it started the exec); matters only without credit. */
  constructor(firstWriter: boolean) {
    this.#lastAck = firstWriter ? 0 : undefined;
  }

  /** Nothing asked on this socket yet: send `credit: true` (then call `asked`) before any data. */
  get unasked(): boolean {
    return this.#state === "unasked";
  }

  /** `credit: true` was sent and its answer has not come. */
  get asking(): boolean {
    return this.#state === "asking";
  }

  /** The server asked for credit back: send `credit: true` once idle, or before waiting for room. */
  get contended(): boolean {
    return this.#contended;
  }

  /** Credit granted and not used: what an idle writer holds. */
  get unusedBytes(): number {
    return this.#state === "granted" ? Math.max(0, this.#limit - this.#sent) : 0;
  }

  /** `credit: true` was handed to the socket: nothing more goes until its answer. */
  asked(): void {
    if (this.#state === "legacy") return;
    this.#state = "asking";
    this.#contended = false;
  }

  /**
   * Whether an error is the answer of a server that predates credit to `credit: true`
   * (PRE_CREDIT_REFUSAL): from then on writes pace by `stdin.ack` offsets.
   */
  takeRefusal(code: string, message: string): boolean {
    if (code !== "bad_message" || this.#state !== "asking" || message !== PRE_CREDIT_REFUSAL) return false;
    this.#state = "legacy";
    return true;
  }

  /**
   * Bytes that may be sent now. Without credit, any one message may go when nothing is
   * outstanding (Infinity), as it always could.
   */
  available(): number {
    switch (this.#state) {
      case "unasked":
      case "asking":
        return 0;
      case "granted":
        return Math.max(0, this.#limit - this.#sent);
      case "legacy": {
        if (this.#outstanding === 0) return Infinity;
        const limit = this.#lastAck === undefined ? UNCOUNTED_LIMIT_BYTES : MAX_PENDING_STDIN_BYTES;
        return Math.max(0, limit - this.#outstanding);
      }
    }
  }

  /** `bytes` were handed to the socket. */
  sent(bytes: number): void {
    this.#sent += bytes;
    this.#outstanding += bytes;
  }

  /** A `stdin.ack` for this writer's exec. */
  acked(ack: Pick<StdinAckMessage, "offset" | "limit" | "received" | "contended">): void {
    if (ack.limit !== undefined) return this.#granted(ack.limit, ack.received, ack.contended === true);
    if (this.#state !== "legacy") return;
    if (this.#lastAck === undefined) {
      this.#lastAck = ack.offset;
      return;
    }
    if (ack.offset <= this.#lastAck) return;
    // Never below 0: growth beyond what this writer sent is someone else's bytes.
    this.#outstanding = Math.max(0, this.#outstanding - (ack.offset - this.#lastAck));
    this.#lastAck = ack.offset;
  }

  #granted(limit: number, received: number | undefined, contended: boolean): void {
    if (this.#state === "asking") {
      // Only the answer counts: a limit sent before the server read the request is void now.
      if (received === undefined) return;
      this.#state = "granted";
      // Bytes of a refused message were never taken in: the server's count is the true one.
      this.#sent = received;
      this.#limit = limit;
    } else if (this.#state === "granted") {
      this.#limit = Math.max(this.#limit, limit);
    }
    if (contended) this.#contended = true;
  }

  /** Without credit: the writer learns that bytes came before its own (a resent exec that had run). */
  countFromNextAck(): void {
    this.#lastAck = undefined;
  }

  /**
   * A new socket: credit is per socket, so the writer asks again. What the old one sent may or may
   * not have arrived (a drop loses what was in flight); the answer's `received` counts only this
   * socket, and `limit` leaves room for whatever the old one left waiting.
   */
  restart(): void {
    this.#state = "unasked";
    this.#sent = 0;
    this.#limit = 0;
    this.#contended = false;
    this.#outstanding = 0;
    this.#lastAck = undefined;
  }
}
