import { closeSync, constants, openSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Linux's O_TMPFILE: __O_TMPFILE (the same bit on x86-64 and arm64) with O_DIRECTORY. */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

/**
 * A file with `bytes` in it and no name, open for reading from its start: how a child is handed
 * data through an fd (bwrap's --args). Nobody can open it by path, and it is gone when the last fd
 * closes. Where O_TMPFILE is not supported (an old kernel, an odd /tmp), a file of mode 0600 with a
 * random name is created exclusively and unlinked at once.
 */
export function openAnonymousFile(bytes: Uint8Array, directory = tmpdir()): number {
  let fd: number;
  try {
    fd = openSync(directory, O_TMPFILE | constants.O_RDWR, 0o600);
  } catch {
    const path = join(directory, `.bunker-${randomBytes(12).toString("hex")}`);
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    unlinkSync(path);
  }
  try {
    // Written at a position (pwrite), so that the fd's own offset stays at the start for the reader.
    for (let done = 0; done < bytes.byteLength; ) done += writeSync(fd, bytes, done, bytes.byteLength - done, done);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}
