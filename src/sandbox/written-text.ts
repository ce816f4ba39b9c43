import { readSync } from "node:fs";

/**
 * The first line a process wrote to `fd`, a file it shared with us (its offset is past what it
 * wrote, so this reads from position 0): how bwrap's complaint is read after a failed run.
 */
export function readWrittenText(fd: number, maxBytes = 4096): string {
  const bytes = new Uint8Array(maxBytes);
  const text = new TextDecoder().decode(bytes.subarray(0, readSync(fd, bytes, 0, maxBytes, 0)));
  return text.trim().split("\n")[0] ?? "";
}
