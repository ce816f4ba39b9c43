// The tail of stdin that bunker exec keeps and resends after a drop the same way.
import { StdinTail } from "../common/stdin-tail.ts";
import { MAX_PENDING_STDIN_BYTES } from "../protocol/index.ts";

/**
 * The stdin bytes a page sent to one exec that the server may not have taken in: what a resume
 * sends again from `ExecInfo.stdin.received`. Offsets are the server's count (the exec's stdin from
 * its first byte, every writer's together), which the page's own matches while it is the exec's only
 * writer; bytes are the raw bytes of each `stdin` (UTF-8 text encoded, base64 decoded), as counted there.
 *
 * Kept: the last MAX_PENDING_STDIN_BYTES sent, less what a `stdin.ack` or a resume proved arrived.
 * The page writes within its credit, and the server keeps every writer's credit within that same
 * bound, so no more is ever in flight: the cap never drops a byte that a resume needs. Past it (a
 * server that predates credit) a resume cannot be exact, and `missingAfter` says so.
 */
export class SentStdin {
  #tail = new StdinTail(MAX_PENDING_STDIN_BYTES);
  /** The server's count at the tail's first byte. */
  #base: number;

  /** `start`: the server's count at the first byte this page will send (0 for an exec it starts). */
  constructor(start: number) {
    this.#base = start;
  }

  /** `bytes` were handed to a socket, after everything before. */
  sent(bytes: Uint8Array): void {
    this.#tail.append(bytes);
    this.#tail.handedOver();
  }

  /** The server has taken in everything before `offset`. */
  arrived(offset: number): void {
    this.#tail.forgetBefore(offset - this.#base);
  }

  /**
   * After a resume whose server had taken in `received`: the bytes sent past it, to send again (none
   * when it has them all). They stay kept, and go again without `sent`: they are the same bytes.
   * Undefined when some of them are no longer kept, or when `received` counts more than this page
   * sent (another writer): nothing can be sent again exactly then, and counting starts afresh from
   * `received`.
   */
  missingAfter(received: number): Uint8Array[] | undefined {
    const tail = this.#tail;
    const missing = tail.from(received - this.#base);
    if (missing) {
      tail.forgetBefore(received - this.#base);
      return missing;
    }
    // Nothing kept (a page that has not written since it attached, or all of it proved to arrive):
    // nothing can be missing, whoever else wrote meanwhile.
    const exact = tail.start === tail.written;
    this.#tail = new StdinTail(MAX_PENDING_STDIN_BYTES);
    this.#base = received;
    return exact ? [] : undefined;
  }
}
