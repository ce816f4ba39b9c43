/**
 * Binary output frames (exec `encoding: "binary"`).
 *
 * A chunk of output travels as two binary WebSocket frames, back to back: a small header frame,
 * then a frame holding exactly the raw bytes. The server sends both in one corked write, and a
 * WebSocket never reorders frames, so the payload frame always follows its header. Keeping the
 * header in its own frame means the server never copies a chunk to put a header in front of it.
 *
 * Header frame layout (big-endian):
 *   byte 0       kind: 0x01 output header
 *   byte 1       stream: 0 stdout, 1 stderr
 *   bytes 2-9    offset: u64, bytes of this stream before the chunk (below 2^53 in practice)
 *   byte 10      n: length of the exec id in UTF-8 bytes (1-255)
 *   bytes 11..   the exec id
 *   then         padding to the end of the frame: zero bytes, which readers ignore
 * Any other first byte is reserved; clients must ignore header kinds they do not know (and the
 * payload frame that follows).
 *
 * Why padding: the WebSocket library copies a large payload into its send buffer right after the
 * header frame, so the header's length decides where the copy lands. A payload that lands a few
 * bytes after a 4 KiB boundary relative to its source makes memcpy stall on 4K aliasing. Measured
 * here with 64 KiB chunks (server CPU per 200 MB): headers of 12 bytes (a one-letter exec id)
 * 400 ms, 16 bytes 370 ms, 36 bytes or more 270 ms. So headers of large chunks are padded to
 * PADDED_HEADER_BYTES; small chunks, copied through a small buffer anyway, keep the short form.
 *
 * This file imports nothing from Bun or Node, so the client library and the web page share it.
 */

/** Kind byte of an output header frame. */
export const OUTPUT_HEADER_KIND = 0x01;

export const BINARY_STREAMS = ["stdout", "stderr"] as const;

/** A decoded output header. */
export interface OutputHeader {
  id: string;
  stream: (typeof BINARY_STREAMS)[number];
  offset: number;
}

const FIXED_BYTES = 11;
/** Headers of chunks from PAD_FROM_BYTES on are at least this long (see the top of this file). */
export const PADDED_HEADER_BYTES = 64;
const PAD_FROM_BYTES = 16 * 1024;

/**
 * Writes the header frames of one exec into one buffer, reused: a streaming exec sends thousands
 * of headers, and only the stream byte and the offset change between them. Each frame returned is
 * valid until the next call (WebSocket sends copy it at once).
 */
export class OutputHeaderWriter {
  /** The padded frame; the short one is its start. */
  readonly #padded: Uint8Array<ArrayBuffer>;
  readonly #short: Uint8Array<ArrayBuffer>;
  readonly #view: DataView;

  constructor(id: string) {
    const idBytes = new TextEncoder().encode(id);
    if (idBytes.byteLength === 0 || idBytes.byteLength > 255) throw new RangeError("exec id must be 1 to 255 UTF-8 bytes");
    const length = FIXED_BYTES + idBytes.byteLength;
    this.#padded = new Uint8Array(Math.max(length, PADDED_HEADER_BYTES));
    this.#short = this.#padded.subarray(0, length);
    this.#view = new DataView(this.#padded.buffer);
    this.#view.setUint8(0, OUTPUT_HEADER_KIND);
    this.#view.setUint8(10, idBytes.byteLength);
    this.#padded.set(idBytes, FIXED_BYTES);
  }

  /** The header frame of a chunk of `payloadBytes` bytes of `stream` at `offset`. */
  frame(stream: OutputHeader["stream"], offset: number, payloadBytes: number): Uint8Array<ArrayBuffer> {
    this.#view.setUint8(1, stream === "stdout" ? 0 : 1);
    this.#view.setUint32(2, Math.floor(offset / 2 ** 32));
    this.#view.setUint32(6, offset >>> 0);
    return payloadBytes >= PAD_FROM_BYTES ? this.#padded : this.#short;
  }
}

/** Encodes one output header frame, in a buffer of its own (padded as for a chunk of `payloadBytes`). */
export function encodeOutputHeader(header: OutputHeader, payloadBytes = 0): Uint8Array<ArrayBuffer> {
  return new OutputHeaderWriter(header.id).frame(header.stream, header.offset, payloadBytes);
}

/** One decoder for every header: a stream of output has thousands. */
// ignoreBOM: an id that starts with U+FEFF keeps it (by default a decode drops it).
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes an output header frame; undefined when the frame is not a valid one. Never throws. */
export function decodeOutputHeader(frame: Uint8Array): OutputHeader | undefined {
  if (frame.byteLength < FIXED_BYTES + 1 || frame[0] !== OUTPUT_HEADER_KIND) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const streamByte = view.getUint8(1);
  if (streamByte > 1) return undefined;
  const length = view.getUint8(10);
  // Bytes after the id are padding.
  if (length === 0 || frame.byteLength < FIXED_BYTES + length) return undefined;
  const offset = view.getUint32(2) * 2 ** 32 + view.getUint32(6);
  let id: string;
  try {
    id = strictUtf8.decode(frame.subarray(FIXED_BYTES, FIXED_BYTES + length));
  } catch {
    return undefined;
  }
  return { id, stream: BINARY_STREAMS[streamByte]!, offset };
}

/** What one binary frame turned out to be. */
export type BinaryFrameResult =
  | { kind: "output"; header: OutputHeader; bytes: Uint8Array }
  /** A header the reader does not know, or its payload, or a header waiting for its payload. */
  | { kind: "pending" | "skipped" }
  | { kind: "violation"; problem: string };

/**
 * Pairs binary frames: a header frame, then the payload frame that belongs to it (the layout at
 * the top of this file). Header kinds the reader does not know are skipped with their payload.
 */
export interface BinaryFramePairer {
  push(frame: Uint8Array): BinaryFrameResult;
  /** True between a header and its payload, when a text frame would break the pairing. */
  readonly awaitingPayload: boolean;
}

/** Creates the pairer for one connection. */
export function createBinaryFramePairer(): BinaryFramePairer {
  let pending: OutputHeader | "skip" | undefined;
  return {
    get awaitingPayload() {
      return pending !== undefined;
    },
    push(frame) {
      if (pending === "skip") {
        pending = undefined;
        return { kind: "skipped" };
      }
      if (pending !== undefined) {
        const header = pending;
        pending = undefined;
        return { kind: "output", header, bytes: frame };
      }
      if (frame.byteLength === 0) return { kind: "violation", problem: "an empty binary frame where a header was due" };
      if (frame[0] !== OUTPUT_HEADER_KIND) {
        pending = "skip";
        return { kind: "skipped" };
      }
      const header = decodeOutputHeader(frame);
      if (!header) return { kind: "violation", problem: "a malformed output header frame" };
      pending = header;
      return { kind: "pending" };
    },
  };
}
