import { createBinaryFramePairer, type OutputHeader } from "../protocol/index.ts";

/** One chunk of output: a header frame and the payload frame after it, put together. */
export interface BinaryOutputChunk extends OutputHeader {
  bytes: Uint8Array;
}

/** Reads the binary frames of one socket in order; returns a chunk after each payload frame. */
export interface BinaryFrameReader {
  read(frame: Uint8Array): BinaryOutputChunk | undefined;
}

/**
 * Pairs each output header frame with the payload frame that follows it (createBinaryFramePairer in
 * src/protocol/binary-frames.ts): a header this page does not understand is skipped together with
 * its payload, as the protocol asks. Use one reader per socket: a new socket starts with a header.
 */
export function createBinaryFrameReader(): BinaryFrameReader {
  const pairer = createBinaryFramePairer();
  return {
    read(frame) {
      const result = pairer.push(frame);
      return result.kind === "output" ? { ...result.header, bytes: result.bytes } : undefined;
    },
  };
}
