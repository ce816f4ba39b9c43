import { expect, test } from "bun:test";
import { closeSync, fstatSync, readlinkSync, readSync } from "node:fs";
import { openAnonymousFile } from "../../src/exec/anonymous-file.ts";

test("an anonymous file hands its bytes from the start, has no name, and only its owner could have opened it", () => {
  const bytes = new TextEncoder().encode("--clearenv\0--setenv\0SECRET\0value\0");
  const fd = openAnonymousFile(bytes);
  try {
    const read = new Uint8Array(bytes.byteLength + 8);
    expect(readSync(fd, read, 0, read.byteLength, null)).toBe(bytes.byteLength);
    expect(read.subarray(0, bytes.byteLength)).toEqual(bytes);
    // O_TMPFILE files are born unlinked; the fallback unlinks at once: either way, no path leads to it.
    expect(readlinkSync(`/proc/self/fd/${fd}`)).toEndWith("(deleted)");
    expect(fstatSync(fd).mode & 0o777).toBe(0o600);
    expect(fstatSync(fd).nlink).toBe(0);
  } finally {
    closeSync(fd);
  }
});
