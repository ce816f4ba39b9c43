import { constants } from "node:fs";
import { FileError } from "./file-error.ts";
import { readAt } from "./fs-calls.ts";
import type { FileScope } from "./file-scope.ts";
import { openContentFile } from "./open-content.ts";
import type { ClientPath } from "./workspace-path.ts";

/** Bytes read from a file, and where they sit in it. */
export interface ReadRange {
  readonly bytes: Buffer;
  readonly offset: number;
  /** The file's size when it was opened. */
  readonly size: number;
  /** Whether the bytes reach the end of the file. */
  readonly eof: boolean;
}

/** Throws `bad_message` when `offset` lies past the end of a file of `size` bytes. */
export function assertOffsetInFile(offset: number, size: number, label: string): void {
  if (offset > size) throw new FileError("bad_message", `offset: ${offset} is past the end of ${label} (${size} bytes)`);
}

/**
 * Reads `length` bytes at `offset` (to the end when length is undefined, or when it asks past it,
 * as read(2) does) in one go. More than `maxMessageBytes` of the file is `too_large`: such reads
 * belong to `file.download`. A length past the end counts only what is there: 2 MiB asked of a
 * 3-byte file was refused (found by a review; envd returns the 3 bytes).
 */
export async function readFileRange(scope: FileScope, path: ClientPath, offset: number, length: number | undefined): Promise<ReadRange> {
  const { label } = path;
  const file = await openContentFile(scope.root, path, constants.O_RDONLY);
  try {
    const size = file.stats.size;
    assertOffsetInFile(offset, size, label);
    const wanted = Math.min(length ?? size - offset, size - offset);
    const cap = scope.limits.maxMessageBytes;
    if (wanted > cap) {
      const advice = length === undefined ? "give offset and length, or use file.download" : "read it in parts, or use file.download";
      throw new FileError("too_large", `${label}: ${wanted} bytes asked, more than the ${cap} one message carries; ${advice}`);
    }
    const bytes = Buffer.allocUnsafe(Math.min(wanted, Math.max(0, size - offset)));
    let filled = 0;
    while (filled < bytes.length) {
      const count = await readAt(file.fd, bytes.subarray(filled), bytes.length - filled, offset + filled);
      if (count === 0) break;
      filled += count;
    }
    return { bytes: bytes.subarray(0, filled), offset, size, eof: offset + filled >= size };
  } finally {
    file.close();
  }
}
