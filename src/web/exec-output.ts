import { ACK_WINDOW_BYTES, createAckTracker } from "./ack-window.ts";
import { formatNotice } from "./exit-text.ts";

/** The terminal as output uses it: xterm's Terminal fits. */
export interface OutputTerminal {
  write(data: string | Uint8Array, callback?: () => void): void;
}

export interface ExecOutputOptions {
  term: OutputTerminal;
  /** Acknowledges the stream up to `offset` (an `ack` message). */
  sendAck(offset: number): void;
  /** xterm has rendered the stream up to `offset`. */
  rendered?(offset: number): void;
}

/**
 * One exec's stdout as a terminal shows it, across attaches: each byte written once, in order,
 * whatever a replay sends again; a `gap` shown as a line; rendered output acknowledged.
 */
export interface ExecOutput {
  /** The next stdout byte the terminal needs: everything before it is written (or was a gap). */
  readonly nextOffset: number;
  /** A new subscription (an attach from nextOffset, or a fresh exec): acks count from there. */
  subscribed(): void;
  /** Bytes of stdout at `offset`, from binary frames. */
  write(offset: number, bytes: Uint8Array): void;
  /** The server no longer holds bytes `from` to `to`. */
  gap(from: number, to: number): void;
}

/** Creates the output of one exec, starting at offset 0. */
export function createExecOutput(options: ExecOutputOptions): ExecOutput {
  const { term } = options;
  let nextOffset = 0;
  const ack = createAckTracker(ACK_WINDOW_BYTES, options.sendAck);
  const notice = (text: string) => term.write(formatNotice(text));
  const rendered = (offset: number) => {
    ack.rendered(offset);
    options.rendered?.(offset);
  };
  return {
    get nextOffset() {
      return nextOffset;
    },
    subscribed() {
      ack.reset(nextOffset);
    },
    write(offset, bytes) {
      if (offset > nextOffset) notice(`${offset - nextOffset} bytes of output are missing here`);
      // A replay from an offset the page already has: what it holds is not written twice.
      const skip = Math.max(0, nextOffset - offset);
      if (skip >= bytes.byteLength) return;
      const end = offset + bytes.byteLength;
      nextOffset = end;
      term.write(skip > 0 ? bytes.subarray(skip) : bytes, () => rendered(end));
    },
    gap(from, to) {
      notice(`${to - from} bytes of output were no longer buffered on the server`);
      nextOffset = Math.max(nextOffset, to);
      term.write("", () => rendered(to));
    },
  };
}
