/** Raw bytes in one `stdin` or `file.write` message when the server names no frame limit (old servers). */
const DEFAULT_MESSAGE_BYTES = 256 * 1024;

/**
 * How many raw bytes one message may carry as base64 under the server's frame limit (`hello`'s
 * `maxFrameBytes`): 3 bytes per 4 characters, and 512 bytes left for the message around them. A
 * frame over the limit closes the whole socket (1009), so every piece must fit.
 */
export function rawBytesPerMessage(maxFrameBytes: number | undefined): number {
  if (maxFrameBytes === undefined) return DEFAULT_MESSAGE_BYTES;
  return Math.max(3, Math.min(DEFAULT_MESSAGE_BYTES, Math.floor((maxFrameBytes - 512) / 4) * 3));
}
