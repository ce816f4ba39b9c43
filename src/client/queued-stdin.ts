import { encodeBase64 } from "./base64.ts";

const EMPTY = new Uint8Array(0);

/**
 * One exec's `stdin` message on its way out: while it waits in the send queue for the server's
 * message rate, later writes to the same exec join it instead of queueing messages of their own.
 * A loop of 5,000 awaited one-line writes went out as 5,000 messages, about five seconds at the
 * default rate; now the lines written while one message waits go out with it. It is made into
 * text only when it leaves, so that what joined it goes too.
 */
export class QueuedStdin {
  /** The bytes so far, in one buffer that grows by doubling (a piece each cost ~130 bytes per 1-byte write). */
  #buffer: Uint8Array = EMPTY;
  #bytes = 0;
  #eof = false;

  /** `maxBytes`: raw bytes one message may carry under the server's frame limit. */
  constructor(
    readonly id: string,
    private readonly maxBytes: number,
  ) {}

  /**
   * Adds `bytes` (and end of file) to the message if they belong with it: the same exec, no end of
   * file sent yet, and room left under the frame limit. False when they need a message of their own.
   * The bytes are copied: the caller may reuse its buffer once its write has resolved, before this leaves.
   */
  add(id: string, bytes: Uint8Array, eof: boolean): boolean {
    if (id !== this.id || this.#eof || this.#bytes + bytes.byteLength > this.maxBytes) return false;
    const needed = this.#bytes + bytes.byteLength;
    if (needed > this.#buffer.byteLength) {
      const grown = new Uint8Array(Math.min(this.maxBytes, Math.max(needed, this.#buffer.byteLength * 2, 256)));
      grown.set(this.#buffer.subarray(0, this.#bytes));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#bytes);
    this.#bytes = needed;
    this.#eof ||= eof;
    return true;
  }

  /** The message as it goes on the wire. */
  text(): string {
    return JSON.stringify({
      type: "stdin",
      id: this.id,
      ...(this.#bytes > 0 && { data: encodeBase64(this.#buffer.subarray(0, this.#bytes)), encoding: "base64" }),
      ...(this.#eof && { eof: true }),
    });
  }
}
