import { FileError, errnoOf, toFileError } from "./file-error.ts";
import { closeFd, lstatPath, rmdirPath, unlinkPath } from "./fs-calls.ts";
import { entryPath, entryPathOf, lstatAt, openDirAt, readEntryNames, type ConfinedRoot, type EntryName } from "./confined-root.ts";
import type { FileScope } from "./file-scope.ts";
import type { OpenDir } from "./platform/index.ts";
import { walkPath } from "./walk.ts";
import type { ClientPath } from "./workspace-path.ts";

/** Times a directory is emptied again when something keeps adding to it while it is removed. */
const MAX_EMPTY_ATTEMPTS = 10;

/**
 * Removes a path; a symlink is removed itself, never what it points to. A directory needs
 * `recursive`, and is then emptied through directories opened without following symlinks, so a
 * symlink swapped in under it is unlinked, not descended.
 */
export async function removePath(scope: FileScope, path: ClientPath, recursive: boolean): Promise<void> {
  const { label } = path;
  // With a trailing /, a symlink is refused rather than followed: removing never goes through one.
  const walked = await walkPath(scope.root, path.components, { label, followLast: false, directory: path.directory });
  try {
    if (walked.name === null) throw new FileError("bad_message", `${label} is the workspace itself, which cannot be removed`);
    const stats = await lstatAt(scope.root, walked.dir, walked.name);
    if (!stats) throw new FileError("not_found", `${label} does not exist in the workspace`);
    if (!stats.isDirectory()) return await unlinkPath(entryPath(scope.root, walked.dir, walked.name));
    if (!recursive) throw new FileError("is_directory", `${label} is a directory; give recursive: true to remove it`);
    await removeDirectory(scope.root, walked.dir, walked.name);
  } catch (error) {
    throw toFileError(error, `remove ${label}`);
  } finally {
    walked.close();
  }
}

async function removeDirectory(root: ConfinedRoot, parent: OpenDir, name: EntryName): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let dir: OpenDir;
    try {
      dir = await openDirAt(root, parent, name);
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === "ENOENT") return;
      // No longer a directory (a symlink or a file swapped in): the name itself goes.
      if (errno === "ENOTDIR") return await unlinkPath(entryPathOf(root, parent, name)).catch(() => {});
      throw error;
    }
    try {
      await emptyDirectory(root, dir);
    } finally {
      closeFd(dir.fd);
    }
    try {
      return await rmdirPath(entryPathOf(root, parent, name));
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === "ENOENT") return;
      if (errno === "ENOTDIR") return await unlinkPath(entryPathOf(root, parent, name)).catch(() => {});
      if ((errno !== "ENOTEMPTY" && errno !== "EEXIST") || attempt >= MAX_EMPTY_ATTEMPTS) throw error;
    }
  }
}

/** Names are read as bytes: one that is not UTF-8 (from a tar archive) must go too, or rmdir fails. */
async function emptyDirectory(root: ConfinedRoot, dir: OpenDir): Promise<void> {
  for (const name of await readEntryNames(root, dir)) {
    const stats = await lstatPath(entryPathOf(root, dir, name)).catch(() => null);
    if (!stats) continue;
    if (stats.isDirectory()) await removeDirectory(root, dir, name);
    else await unlinkPath(entryPathOf(root, dir, name)).catch((error: unknown) => {
      if (errnoOf(error) !== "ENOENT") throw error;
    });
  }
}
