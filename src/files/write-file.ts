import { constants, type Stats } from "node:fs";
import type { FileEntry } from "../protocol/index.ts";
import { assertContentFile, describeEntry } from "./describe-entry.ts";
import { FileError, errnoOf, toFileError } from "./file-error.ts";
import { closeFd, fchmodFd, fstatFd, fsyncFd, writeAllAt } from "./fs-calls.ts";
import { lstatAt, openEntryAt, settleOwnership } from "./confined-root.ts";
import type { FileScope } from "./file-scope.ts";
import { openContentFile } from "./open-content.ts";
import { createTempFile, discardTempFile, placeFile } from "./place-file.ts";
import { assertWithinQuota, measureUsage } from "./usage.ts";
import { walkPath, type Walked } from "./walk.ts";
import { assertNotLinkedIntoProtected } from "./protected-target.ts";
import type { ClientPath } from "./workspace-path.ts";

/** The choices of a file.write. */
export interface WriteOptions {
  /** overwrite (default): replace atomically; fail: `exists` if it is there; append: add to its end. */
  readonly ifExists: "overwrite" | "fail" | "append";
  /** Create missing parent directories. */
  readonly parents: boolean;
  /** Permission bits; undefined keeps an existing file's, or 0o644 for a new one. */
  readonly mode: number | undefined;
}

/** Mode of directories the server creates on the way to a file. */
export const PARENT_DIRECTORY_MODE = 0o755;
const NEW_FILE_MODE = 0o644;

/**
 * Writes a whole file through a temporary file in the same directory, renamed over the target once
 * written and synced: readers see the old file or the new one, never a mix. `append` writes in place
 * (at the end), after the fd itself proved to be a regular file with one link; a missing file is
 * created in place too (O_EXCL), so that appends racing to create it all land.
 */
export async function writeFile(scope: FileScope, path: ClientPath, data: Uint8Array, options: WriteOptions): Promise<FileEntry> {
  const { label } = path;
  if (data.length > scope.limits.maxMessageBytes) {
    throw new FileError("too_large", `${label}: ${data.length} bytes is more than the ${scope.limits.maxMessageBytes} one message carries; use file.upload`);
  }
  const walked = await walkPath(scope.root, path.components, {
    label,
    followLast: true,
    parentsMode: options.parents ? PARENT_DIRECTORY_MODE : undefined,
    directory: path.directory,
  });
  try {
    assertNotLinkedIntoProtected(scope, walked, label);
    if (walked.name === null) throw new FileError("is_directory", `${label} is the workspace itself, a directory`);
    // The walk refused a file at a path ending in /; what is left is a directory or nothing, and neither takes bytes.
    if (path.directory) throw new FileError("is_directory", `${label} ends in /, so it names a directory, never a file`);
    const existing = await lstatAt(scope.root, walked.dir, walked.name);
    if (existing && !existing.isSymbolicLink()) assertContentFile(existing, label);
    if (existing && options.ifExists === "fail") throw new FileError("exists", `${label} exists already`);
    if (options.ifExists === "append" && (existing === null || existing.isFile())) {
      if (scope.quotaBytes !== undefined) {
        const used = await measureUsage(scope.root);
        assertWithinQuota(scope.quotaBytes, used + data.length, `${label}: appending ${data.length} bytes`, used);
      }
      const created = existing === null ? await createForAppend(scope, walked, walked.name, data, options.mode) : null;
      return created ?? (await appendInPlace(scope, path, data, options.mode));
    }
    const replaced = existing?.isFile() ? existing : undefined;
    if (scope.quotaBytes !== undefined) {
      const before = await measureUsage(scope.root);
      assertWithinQuota(scope.quotaBytes, before - (replaced?.size ?? 0) + data.length, `${label}: writing ${data.length} bytes`, before);
    }
    const temp = await createTempFile(scope.root, walked.dir);
    try {
      await writeAllAt(temp.fd, data, 0);
      await settleOwnership(scope.root, temp.fd, options.mode ?? modeOf(replaced) ?? NEW_FILE_MODE, replaced);
      await fsyncFd(temp.fd);
      await placeFile(scope.root, walked.dir, temp.name, walked.name, options.ifExists === "fail", label);
      const entry = describeEntry(walked.components, await fstatFd(temp.fd));
      closeFd(temp.fd);
      return entry;
    } catch (error) {
      await discardTempFile(scope.root, walked.dir, temp);
      throw error;
    }
  } catch (error) {
    throw toFileError(error, `write ${label}`);
  } finally {
    walked.close();
  }
}

function modeOf(stats: Stats | undefined): number | undefined {
  return stats === undefined ? undefined : stats.mode & 0o7777;
}

/**
 * Creates a missing file for `append` in place, with O_EXCL: appends that race to create one file
 * all land in it (through a temporary file and rename, the last rename would drop the others' bytes).
 * null when the file appeared meanwhile: append to it instead.
 */
async function createForAppend(scope: FileScope, walked: Walked, name: string, data: Uint8Array, mode: number | undefined): Promise<FileEntry | null> {
  let fd: number;
  try {
    fd = await openEntryAt(scope.root, walked.dir, name, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return null;
    throw error;
  }
  try {
    await settleOwnership(scope.root, fd, mode ?? NEW_FILE_MODE);
    await writeAllAt(fd, data, null);
    return describeEntry(walked.components, await fstatFd(fd));
  } finally {
    closeFd(fd);
  }
}

async function appendInPlace(scope: FileScope, path: ClientPath, data: Uint8Array, mode: number | undefined): Promise<FileEntry> {
  const file = await openContentFile(scope.root, path, constants.O_WRONLY | constants.O_APPEND);
  try {
    // This walk, not writeFile's: a command may have swapped the file for a link since (found by a review).
    assertNotLinkedIntoProtected(scope, file.walked, path.label);
    await writeAllAt(file.fd, data, null);
    if (mode !== undefined) await fchmodFd(file.fd, mode);
    return describeEntry(file.walked.components, await fstatFd(file.fd));
  } finally {
    file.close();
  }
}
