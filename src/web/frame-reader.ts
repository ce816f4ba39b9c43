import { decodeOutputHeader, type OutputHeader } from "../protocol/index.ts";

/** One chunk of output: a header frame and the payload frame after it, put together. */
export interface BinaryOutputChunk extends OutputHeader {
  bytes: Uint8Array;
}

/** Reads the binary frames of one socket in order; returns a chunk after each payload frame. */
export interface BinaryFrameReader {
  read(frame: Uint8Array): BinaryOutputChunk | undefined;
}

/**
 * Pairs each output header frame with the payload frame that follows it (src/protocol/binary-frames.ts).
 * A header this page does not understand is skipped together with its payload, as the protocol asks.
 * Use one reader per socket: a new socket starts with a header.
 */
export function createBinaryFrameReader(): BinaryFrameReader {
  let next: { kind: "header" } | { kind: "payload"; header: OutputHeader | undefined } = { kind: "header" };
  return {
    read(frame) {
      if (next.kind === "header") {
        next = { kind: "payload", header: decodeOutputHeader(frame) };
        return undefined;
      }
      const { header } = next;
      next = { kind: "header" };
      return header && { ...header, bytes: frame };
    },
  };
}
