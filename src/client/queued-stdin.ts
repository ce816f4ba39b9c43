import { encodeBase64 } from "./base64.ts";
import { concatBytes } from "./concat-bytes.ts";

/**
 * One exec's `stdin` message on its way out: while it waits in the send queue for the server's
 * message rate, later writes to the same exec join it instead of queueing messages of their own.
 * A loop of 5,000 awaited one-line writes went out as 5,000 messages, about five seconds at the
 * default rate; now the lines written while one message waits go out with it. It is made into
 * text only when it leaves, so that what joined it goes too.
 */
export class QueuedStdin {
  readonly #pieces: Uint8Array[] = [];
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
   */
  add(id: string, bytes: Uint8Array, eof: boolean): boolean {
    if (id !== this.id || this.#eof || this.#bytes + bytes.byteLength > this.maxBytes) return false;
    if (bytes.byteLength > 0) {
      // A copy: the caller may reuse its buffer once its write has resolved, before this leaves.
      this.#pieces.push(bytes.slice());
      this.#bytes += bytes.byteLength;
    }
    this.#eof ||= eof;
    return true;
  }

  /** The message as it goes on the wire. */
  text(): string {
    const data = this.#pieces.length === 1 ? this.#pieces[0]! : concatBytes(this.#pieces);
    return JSON.stringify({
      type: "stdin",
      id: this.id,
      ...(this.#bytes > 0 && { data: encodeBase64(data), encoding: "base64" }),
      ...(this.#eof && { eof: true }),
    });
  }
}
