import type { OutputStream as OutputStreamName } from "../protocol/index.ts";
import { concatBytes } from "./concat-bytes.ts";

/** Bytes `from` (inclusive) to `to` (exclusive) of a stream that never arrived. */
export interface OutputGap {
  from: number;
  to: number;
}

/**
 * One output stream of an exec (stdout or stderr): an async iterable of byte chunks, read once.
 *
 * Chunks are buffered in the client as they arrive, whether or not anyone reads. With the exec's
 * `ackWindowBytes`, the client acknowledges bytes as they are read, so the server holds the command
 * back once that many bytes of this stream wait unread: memory stays bounded, and a stream nobody
 * reads (and does not `discard()`) eventually stalls its command, as an unread pipe does. Without
 * it, the server sends as fast as the connection allows and unread bytes collect in memory.
 */
export interface OutputStream extends AsyncIterable<Uint8Array> {
  readonly name: OutputStreamName;
  /** The offset of the next byte due: bytes received so far, counted from the stream's start. */
  readonly offset: number;
  /** Bytes received and not yet read. */
  readonly bufferedBytes: number;
  /** The most bytes this stream has held unread at once. */
  readonly maxBufferedBytes: number;
  /** Ranges the server no longer had when they were asked for (`gap` messages, replays). */
  readonly gaps: readonly OutputGap[];
  /** The stream decoded as UTF-8, chunk by chunk; a character split across chunks is held back. */
  text(): AsyncIterable<string>;
  /** Every byte until the stream ends. */
  readAll(): Promise<Uint8Array>;
  /** Every byte until the stream ends, decoded as UTF-8. */
  readAllText(): Promise<string>;
  /** Drops what is buffered and everything still to come (acknowledging it), and ends iteration. */
  discard(): void;
}

interface Chunk {
  bytes: Uint8Array;
  /** The raw stream offset just past this chunk; an estimate for `utf8` chunks until the next one arrives. */
  end: number;
  exact: boolean;
}

/** The client's side of an OutputStream: the exec handle pushes into it. */
export class OutputBuffer implements OutputStream {
  readonly #chunks: Chunk[] = [];
  readonly #gaps: OutputGap[] = [];
  #offset: number;
  /** Start offset of the last chunk taken in, to recognize replays of `utf8` chunks. */
  #lastStart = -1;
  #lastChunk: Chunk | undefined;
  #buffered = 0;
  #maxBuffered = 0;
  #claimed = false;
  #ended = false;
  #discarding = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(
    readonly name: OutputStreamName,
    startOffset: number,
    /** Called with the raw offset up to which bytes have been read (or discarded). */
    private readonly onConsumed: (offset: number) => void,
  ) {
    this.#offset = startOffset;
  }

  get offset(): number {
    return this.#offset;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  get maxBufferedBytes(): number {
    return this.#maxBuffered;
  }

  get gaps(): readonly OutputGap[] {
    return this.#gaps;
  }

  /**
   * Takes in a chunk at a raw offset. `exact` chunks (base64, binary) know their raw length, so an
   * overlap with bytes already held is cut off; `utf8` chunks do not, so a replay is recognized by
   * its start offset alone, and their end is known once the next one comes, or from `rawBytes` (the
   * message's `bytes`, sent where invalid UTF-8 made the text's length differ). A chunk past the
   * expected offset records a gap.
   */
  push(offset: number, bytes: Uint8Array, exact: boolean, rawBytes?: number): void {
    if (this.#ended || this.#failure) return;
    if (exact) {
      if (offset + bytes.byteLength <= this.#offset) return;
      if (offset < this.#offset) {
        bytes = bytes.subarray(this.#offset - offset);
        offset = this.#offset;
      }
    } else if (offset <= this.#lastStart) {
      return;
    }
    if (this.#lastChunk && !this.#lastChunk.exact && offset < this.#lastChunk.end) this.#lastChunk.end = offset;
    if (offset > this.#offset) this.#gaps.push({ from: this.#offset, to: offset });
    const chunk: Chunk = { bytes, end: offset + (rawBytes ?? bytes.byteLength), exact };
    this.#offset = chunk.end;
    this.#lastStart = offset;
    this.#lastChunk = chunk;
    if (this.#discarding) return this.onConsumed(chunk.end);
    if (bytes.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += bytes.byteLength;
    this.#maxBuffered = Math.max(this.#maxBuffered, this.#buffered);
    this.#wakeReader();
  }

  /** Records bytes the server no longer has; output continues at `to`. */
  gap(from: number, to: number): void {
    if (to <= this.#offset) return;
    this.#gaps.push({ from: Math.max(from, this.#offset), to });
    this.#offset = to;
  }

  /** No more bytes will come: iteration ends once the buffer is read. */
  end(): void {
    this.#ended = true;
    this.#wakeReader();
  }

  /** No more bytes will come, and reading fails with `error` once the buffer is read. */
  fail(error: Error): void {
    if (this.#ended) return;
    this.#failure = error;
    this.#wakeReader();
  }

  discard(): void {
    this.#discarding = true;
    this.#chunks.length = 0;
    this.#buffered = 0;
    this.onConsumed(this.#offset);
    this.#wakeReader();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#claimed) throw new TypeError(`${this.name} can be read once, and it is already being read`);
    this.#claimed = true;
    return this.#read();
  }

  async *#read(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const chunk = this.#chunks.shift();
        if (chunk) {
          this.#buffered -= chunk.bytes.byteLength;
          yield chunk.bytes;
          // Acknowledged once the reader asks for more: it has then dealt with the chunk.
          this.onConsumed(chunk.end);
          continue;
        }
        if (this.#discarding || this.#ended) return;
        if (this.#failure) throw this.#failure;
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      // A reader that stops early (break, return, throw) is done with the stream.
      if (!this.#ended || this.#chunks.length > 0) this.discard();
    }
  }

  async *text(): AsyncGenerator<string> {
    const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
    for await (const bytes of this) {
      const text = decoder.decode(bytes, { stream: true });
      if (text) yield text;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }

  async readAll(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const bytes of this) parts.push(bytes);
    return concatBytes(parts);
  }

  async readAllText(): Promise<string> {
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(await this.readAll());
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
