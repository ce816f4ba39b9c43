import { readSync } from "node:fs";

/**
 * The first line a process wrote to `fd`, a file it shared with us (its offset is past what it
 * wrote, so this reads from position 0): how bwrap's complaint is read after a failed run.
 */
export function readWrittenText(fd: number, maxBytes = 4096): string {
  const text = new TextDecoder().decode(readWrittenBytes(fd, maxBytes));
  return text.trim().split("\n")[0] ?? "";
}

/** Up to `maxBytes` of what a process wrote to `fd`, a file it shared with us, from its start. */
export function readWrittenBytes(fd: number, maxBytes: number): Uint8Array {
  const bytes = new Uint8Array(maxBytes);
  return bytes.subarray(0, readSync(fd, bytes, 0, maxBytes, 0));
}
