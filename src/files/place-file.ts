import { libc } from "../common/libc.ts";
import { randomText } from "../common/random-text.ts";
import { constants } from "node:fs";
import { FileError, errnoOf } from "./file-error.ts";
import { closeFd, linkPath, renamePath, unlinkPath } from "./fs-calls.ts";
import { entryPath, openEntryAt, type ConfinedRoot } from "./confined-root.ts";
import type { OpenDir } from "./platform/index.ts";

/** Prefix of the server's temporary files; they sit beside their target until renamed over it. */
export const TEMP_PREFIX = ".bunker-tmp-";
/** The random part of a temporary file's name, in bytes (twice as many hex digits). */
const TEMP_RANDOM_BYTES = 8;
/** Exactly the names createTempFile makes: a user's own `.bunker-tmp-notes` is not one (file.watch hid it). */
const TEMP_NAME = new RegExp(`^\\.bunker-tmp-[0-9a-f]{${2 * TEMP_RANDOM_BYTES}}$`);

/** Whether `name` has the shape of one of the server's temporary files. */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/** Creates a new, empty temporary file in `dir` (O_EXCL: never an existing file or a symlink). */
export async function createTempFile(root: ConfinedRoot, dir: OpenDir): Promise<{ fd: number; name: string }> {
  for (;;) {
    const name = `${TEMP_PREFIX}${randomText(TEMP_RANDOM_BYTES, "hex")}`;
    try {
      const fd = await openEntryAt(root, dir, name, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
      return { fd, name };
    } catch (error) {
      if (errnoOf(error) !== "EEXIST") throw error;
    }
  }
}

/** Removes a file of `dir` by name, ignoring a name that is already gone. */
export async function unlinkQuietly(root: ConfinedRoot, dir: OpenDir, name: string): Promise<void> {
  await unlinkPath(entryPath(root, dir, name)).catch(() => {});
}

/**
 * Puts the finished file `from` of `dir` at `to`, atomically: rename(2), which replaces `to` (never
 * through it: a symlink or another hard link there is replaced, not written), or with `noReplace`
 * renameat2's RENAME_NOREPLACE, which fails with `exists` when `to` appeared meanwhile. Where that
 * cannot be had (no glibc, or a filesystem without it), link(2) then unlink(2), which give the new
 * file two links for a moment: a read of it then was refused ("has 2 hard links"; 159 of 800 reads
 * racing writes, found by a review). `from` is gone afterwards either way.
 */
export async function placeFile(root: ConfinedRoot, dir: OpenDir, from: string, to: string, noReplace: boolean, label: string): Promise<void> {
  try {
    if (noReplace) {
      if (libc()?.renameNoReplace(entryPath(root, dir, from), entryPath(root, dir, to)) === 0) return;
      await linkPath(entryPath(root, dir, from), entryPath(root, dir, to));
      await unlinkQuietly(root, dir, from);
    } else {
      await renamePath(entryPath(root, dir, from), entryPath(root, dir, to));
    }
  } catch (error) {
    await unlinkQuietly(root, dir, from);
    const errno = errnoOf(error);
    if (errno === "EEXIST") throw new FileError("exists", `${label} exists already`);
    if (errno === "EISDIR" || errno === "ENOTEMPTY") throw new FileError("is_directory", `${label} is a directory`);
    throw error;
  }
}

/** Closes a temporary file and removes it: the write it belonged to failed. */
export async function discardTempFile(root: ConfinedRoot, dir: OpenDir, temp: { fd: number; name: string }): Promise<void> {
  closeFd(temp.fd);
  await unlinkQuietly(root, dir, temp.name);
}
