import { randomText } from "../common/random-text.ts";
import { closeSync, constants, openSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Memory, not disk, where there is a /dev/shm: the data is a command's environment, secrets
 * included, and a disk-backed /tmp would write it out.
 */
const MEMORY_DIR = "/dev/shm";

/** Linux's O_TMPFILE: __O_TMPFILE (the same bit on x86-64 and arm64) with O_DIRECTORY. */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

/**
 * A file with `bytes` in it and no name, open for reading from its start: how a child is handed
 * data through an fd (bwrap's --args). Nobody can open it by path, and it is gone when the last fd
 * closes. Tried in /dev/shm, then in the temp directory; where neither takes O_TMPFILE (an old
 * kernel, an odd filesystem), a file of mode 0600 with a random name is created exclusively in the
 * temp directory and unlinked at once.
 */
export function openAnonymousFile(bytes: Uint8Array): number {
  return fillAnonymousFile(openTmpfile(MEMORY_DIR) ?? openTmpfile(tmpdir()) ?? openNamedAndUnlink(tmpdir()), bytes);
}

/**
 * Writes `bytes` at the start of an empty file with no name (one openAnonymousFile made empty) and
 * returns its fd, its offset still at the start; a write that fails closes it.
 */
export function fillAnonymousFile(fd: number, bytes: Uint8Array): number {
  try {
    // Written at a position (pwrite), so that the fd's own offset stays at the start for the reader.
    for (let done = 0; done < bytes.byteLength; ) done += writeSync(fd, bytes, done, bytes.byteLength - done, done);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

function openTmpfile(directory: string): number | undefined {
  try {
    return openSync(directory, O_TMPFILE | constants.O_RDWR, 0o600);
  } catch {
    // Missing, read-only, or a filesystem without O_TMPFILE: the next place is tried.
    return undefined;
  }
}

function openNamedAndUnlink(directory: string): number {
  const path = join(directory, `.bunker-${randomText(12, "hex")}`);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    unlinkSync(path);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}
