import { isUtf8 } from "node:buffer";
import type { ExitMessage, OutputEncoding, OutputStream } from "../protocol/index.ts";
import { OutputHeaderWriter } from "../protocol/index.ts";
import type { LogReader, OutputLog } from "../exec/output-log.ts";
import { completeUtf8Length, utf8SequenceLength } from "../exec/utf8-chunker.ts";
import type { ConnectionSink } from "./connection-sink.ts";

/** Largest run of raw bytes in one output message. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

const STREAMS = ["stdout", "stderr"] as const;
// ignoreBOM: a byte-order mark is output like any other character (by default each decode drops one at its start).
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** What a subscription reads from: an exec's two logs and, once known, its exit. */
export interface SubscribedExec {
  readonly id: string;
  readonly logs: Record<OutputStream, OutputLog>;
  /** The exit message, once the exec has ended and its output is complete. */
  exitMessage(): ExitMessage | undefined;
}

export interface SubscriptionOptions {
  encoding: OutputEncoding;
  /** At most this many bytes per stream sent and not acknowledged; undefined: no acks needed. */
  ackWindowBytes: number | undefined;
  /** Offsets the client already holds. */
  from: Record<OutputStream, number>;
}

/** Stream offsets `from` (inclusive) to `to` (exclusive) that were sent as a `gap`. */
interface SentGap {
  from: number;
  to: number;
}

/**
 * One connection's view of one exec: from where it is being sent each stream, in which encoding,
 * and whether it has been sent the exit. Each subscription has its own flow control (its socket's
 * queue and its ack window), so a slow viewer never holds up anyone else; the exec's logs keep
 * room for the subscription furthest ahead.
 *
 * The ack window counts bytes sent and not yet acknowledged. A `gap` carries no bytes, so it takes
 * no room; but it is sent only while the window has room, and data follows it at once. A producer
 * that cannot be paused (a PTY with IXON off) therefore costs a client that stops acknowledging one
 * window of data and nothing more, not a stream of gaps each followed by a fresh window.
 */
export class Subscription {
  readonly #readers: Record<OutputStream, { position: number; retainFrom?: number; paces?: false }>;
  /** Everything before this offset is acknowledged; at most the reader's position. */
  readonly #acked: Record<OutputStream, number>;
  /** Gaps sent after `#acked`, oldest first: bytes between `#acked` and the position that were never sent. */
  readonly #unackedGaps: Record<OutputStream, SentGap[]> = { stdout: [], stderr: [] };
  #exitSent = false;
  #closed = false;
  /** Made on the first binary chunk. */
  #headers: OutputHeaderWriter | undefined;

  constructor(
    readonly exec: SubscribedExec,
    private readonly sink: ConnectionSink,
    private readonly options: SubscriptionOptions,
  ) {
    const acking = options.ackWindowBytes !== undefined;
    // A viewer's subscription follows the command; it never holds it back (see LogReader.paces).
    const paces = sink.viewer === true ? { paces: false as const } : {};
    this.#readers = {
      stdout: { position: options.from.stdout, ...(acking && { retainFrom: options.from.stdout }), ...paces },
      stderr: { position: options.from.stderr, ...(acking && { retainFrom: options.from.stderr }), ...paces },
    };
    this.#acked = { ...options.from };
    for (const stream of STREAMS) exec.logs[stream].addReader(this.#readers[stream] as LogReader);
  }

  /** Whether the exit was sent: nothing more will be. */
  get done(): boolean {
    return this.#exitSent;
  }

  /** The client consumed `stream` up to `offset`. */
  ack(stream: OutputStream, offset: number): void {
    if (offset <= this.#acked[stream]) return;
    this.#moveAcked(stream, Math.min(offset, this.#readers[stream].position));
    this.exec.logs[stream].readerMoved();
    this.flush();
  }

  /** Sends what the socket and the ack window allow now; call again on drain, ack, or new output. */
  flush(): void {
    if (this.#closed || this.#exitSent) return;
    for (const stream of STREAMS) {
      if (!this.#flushStream(stream)) return;
    }
    const exit = this.exec.exitMessage();
    if (!exit) return;
    for (const stream of STREAMS) {
      const log = this.exec.logs[stream];
      if (!log.ended || this.#readers[stream].position < log.end) return;
    }
    this.#exitSent = true;
    this.sink.send(JSON.stringify(exit));
    this.close();
  }

  /** Stops reading: the logs no longer keep room for this subscription. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const stream of STREAMS) this.exec.logs[stream].deleteReader(this.#readers[stream] as LogReader);
  }

  /** Sends one stream as far as allowed; false when the socket is congested. */
  #flushStream(stream: OutputStream): boolean {
    const log = this.exec.logs[stream];
    const reader = this.#readers[stream];
    for (;;) {
      if (this.sink.closed) return false;
      if (this.sink.congestion()) return false;
      const allowed = this.#allowedBytes(stream);
      // A full window sends nothing, not even a gap: the bytes being dropped meanwhile are reported
      // in one gap once the client has acknowledged room for what follows it.
      if (allowed <= 0) return true;
      if (reader.position < log.start) this.#sendGap(stream, log.start);
      const chunk = log.read(reader.position, allowed);
      if (!chunk) return true;
      const sent = this.#send(stream, chunk.offset, chunk.bytes, log);
      if (sent === 0) return true;
      reader.position = chunk.offset + sent;
      log.readerMoved();
    }
  }

  /** How many bytes of `stream` may be sent now, at most one message's worth. */
  #allowedBytes(stream: OutputStream): number {
    const window = this.options.ackWindowBytes;
    if (window === undefined) return MAX_MESSAGE_BYTES;
    let unacked = this.#readers[stream].position - this.#acked[stream];
    for (const gap of this.#unackedGaps[stream]) unacked -= gap.to - gap.from;
    return Math.min(MAX_MESSAGE_BYTES, window - unacked);
  }

  /** Tells the client that the bytes up to `to` are no longer held; the stream continues there. */
  #sendGap(stream: OutputStream, to: number): void {
    const reader = this.#readers[stream];
    const from = reader.position;
    this.sink.send(JSON.stringify({ type: "gap", id: this.exec.id, stream, from, to }));
    reader.position = to;
    if (this.options.ackWindowBytes === undefined) return;
    this.#unackedGaps[stream].push({ from, to });
    this.#moveAcked(stream, this.#acked[stream]);
  }

  /**
   * Sets the acknowledged offset. A gap that starts there counts as acknowledged too, as it holds
   * no bytes the client could still be processing: with everything before it acknowledged (a client
   * that acks all it was sent, or one that has been sent only this gap), the window starts after it.
   */
  #moveAcked(stream: OutputStream, offset: number): void {
    const gaps = this.#unackedGaps[stream];
    let acked = offset;
    while (gaps.length > 0 && gaps[0]!.from <= acked) acked = Math.max(acked, gaps.shift()!.to);
    this.#acked[stream] = acked;
    const reader = this.#readers[stream];
    if (reader.retainFrom !== undefined) reader.retainFrom = acked;
  }

  /** Sends bytes at `offset`; returns how many raw bytes went out (UTF-8 holds back a cut character). */
  #send(stream: OutputStream, offset: number, bytes: Uint8Array, log: OutputLog): number {
    const id = this.exec.id;
    switch (this.options.encoding) {
      case "binary":
        this.#headers ??= new OutputHeaderWriter(id);
        this.sink.sendBinaryPair(this.#headers.frame(stream, offset, bytes.byteLength), bytes);
        return bytes.byteLength;
      case "base64":
        this.sink.send(`{"type":"output","id":${JSON.stringify(id)},"stream":"${stream}","offset":${offset},"data":"${base64(bytes)}"}`);
        return bytes.byteLength;
      case "utf8": {
        let text = bytes;
        let complete = completeUtf8Length(bytes);
        if (complete === 0) {
          // Only the start of a character is here: join it with the rest, which may itself be cut
          // across more than one chunk (e2 | 82 | ac): a read of one chunk stalled the stream there.
          text = joinCharacter(bytes, offset, log, utf8SequenceLength(bytes[0]!));
          complete = completeUtf8Length(text);
          // At the end of the stream a cut character is sent as it is (it decodes to U+FFFD).
          if (complete === 0 && !(log.ended && offset + text.byteLength >= log.end)) return 0;
          if (complete === 0) complete = text.byteLength;
        } else if (complete < bytes.byteLength && log.ended && offset + bytes.byteLength >= log.end) {
          complete = bytes.byteLength;
        }
        const raw = text.subarray(0, complete);
        const data = decoder.decode(raw);
        // Where invalid bytes became U+FFFD, data is not the raw bytes: say how many it covers. (Its
        // UTF-8 length can still match: the first 3 bytes of a cut 4-byte character become one
        // U+FFFD, 3 bytes too.)
        const exact = isUtf8(raw);
        const rawBytes = exact ? "" : `,"bytes":${complete}`;
        this.sink.send(`{"type":"output","id":${JSON.stringify(id)},"stream":"${stream}","offset":${offset},"data":${JSON.stringify(data)}${rawBytes}}`);
        return complete;
      }
    }
  }
}

/**
 * `head` (the start of a character of `size` bytes) joined with the rest of that character from
 * `log`, from however many chunks hold it. Not a byte more: with an ack window smaller than a
 * character the one character goes out, where up to 4 bytes joined let the characters after it
 * through too ("€x" against a window of 1, found by a review).
 */
function joinCharacter(head: Uint8Array, offset: number, log: OutputLog, size: number): Uint8Array {
  const joined = new Uint8Array(size);
  joined.set(head);
  let length = head.byteLength;
  while (length < size) {
    const next = log.read(offset + length, size - length);
    if (!next || next.offset !== offset + length) break;
    joined.set(next.bytes, length);
    length += next.bytes.byteLength;
  }
  return joined.subarray(0, length);
}
