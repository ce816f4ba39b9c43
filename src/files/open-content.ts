import { constants, type Stats } from "node:fs";
import { assertContentFile } from "./describe-entry.ts";
import { FileError, errnoOf, toFileError } from "./file-error.ts";
import { closeFd, fstatFd } from "./fs-calls.ts";
import { lstatAt, openEntryAt, type ConfinedRoot } from "./confined-root.ts";
import { walkPath, type Walked } from "./walk.ts";
import type { ClientPath } from "./workspace-path.ts";

/** Times an open is tried again when a symlink appears at the last component between walk and open. */
const MAX_OPEN_RETRIES = 100;

/** A regular file opened inside the workspace, and the walk that holds its directory. */
export interface OpenContent {
  readonly fd: number;
  readonly stats: Stats;
  readonly walked: Walked;
  close(): void;
}

/**
 * Opens an existing regular file with `flags`: walked with the last symlink followed (confined),
 * opened with O_NOFOLLOW | O_NONBLOCK, then checked on the fd itself (assertContentFile), so what
 * is checked is what is read or written.
 */
export async function openContentFile(root: ConfinedRoot, path: ClientPath, flags: number): Promise<OpenContent> {
  const { label } = path;
  for (let attempt = 0; ; attempt++) {
    const walked = await walkPath(root, path.components, { label, followLast: true, directory: path.directory });
    if (walked.name === null) {
      walked.close();
      throw new FileError("is_directory", `${label} is the workspace itself, a directory`);
    }
    let fd: number;
    try {
      // Refused before any open where possible: opening a device can have effects of its own.
      const seen = await lstatAt(root, walked.dir, walked.name);
      if (seen && !seen.isSymbolicLink()) assertContentFile(seen, label);
      fd = await openEntryAt(root, walked.dir, walked.name, flags | constants.O_NOCTTY);
    } catch (error) {
      walked.close();
      const errno = errnoOf(error);
      if (errno === "ELOOP" && attempt < MAX_OPEN_RETRIES) continue;
      if (errno === "EISDIR") throw new FileError("is_directory", `${label} is a directory`);
      if (errno === "ENOENT") throw new FileError("not_found", `${label} does not exist in the workspace`);
      if (errno === "ENXIO") throw new FileError("unsupported_file_type", `${label} is a fifo or socket; only regular files are read or written`);
      throw toFileError(error, `open ${label}`);
    }
    try {
      const stats = await fstatFd(fd);
      assertContentFile(stats, label);
      let closed = false;
      return {
        fd,
        stats,
        walked,
        close() {
          if (closed) return;
          closed = true;
          closeFd(fd);
          walked.close();
        },
      };
    } catch (error) {
      closeFd(fd);
      walked.close();
      throw toFileError(error, `open ${label}`);
    }
  }
}
