import { randomText } from "../common/random-text.ts";
import { FileError, errnoOf, toFileError } from "./file-error.ts";
import { closeFd, lstatPath, renamePath, rmdirPath, unlinkPath } from "./fs-calls.ts";
import { entryPath, entryPathOf, lstatAt, openDirAt, readEntryNames, type ConfinedRoot, type EntryName } from "./confined-root.ts";
import type { FileScope } from "./file-scope.ts";
import type { OpenDir } from "./platform/index.ts";
import { walkPath } from "./walk.ts";
import { assertNotLinkedIntoProtected } from "./protected-target.ts";
import type { ClientPath } from "./workspace-path.ts";

/** Times a directory is emptied again when something keeps adding to it while it is removed. */
const MAX_EMPTY_ATTEMPTS = 10;

/** Prefix of the names under which a removal gathers the directories it finds (see removeDirectory). */
const GATHERED_PREFIX = ".bunker-rm-";
/** The random part of a gathered directory's name, in bytes (twice as many hex digits). */
const GATHERED_RANDOM_BYTES = 8;
const GATHERED_NAME = new RegExp(`^\\.bunker-rm-[0-9a-f]{${2 * GATHERED_RANDOM_BYTES}}$`);

/** Whether `name` has the shape of a directory a removal gathered (file.watch hides them, as temporary files). */
export function isGatheredName(name: string): boolean {
  return GATHERED_NAME.test(name);
}

/**
 * Removes a path; a symlink is removed itself, never what it points to. A directory needs
 * `recursive`, and is then removed by removeDirectory.
 */
export async function removePath(scope: FileScope, path: ClientPath, recursive: boolean): Promise<void> {
  const { label } = path;
  // With a trailing /, a symlink is refused rather than followed: removing never goes through one.
  const walked = await walkPath(scope.root, path.components, { label, followLast: false, directory: path.directory });
  try {
    if (walked.name === null) throw new FileError("bad_message", `${label} is the workspace itself, which cannot be removed`);
    assertNotLinkedIntoProtected(scope, walked, label);
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

/**
 * Removes directory `name` of `parent` with everything in it, however deep: in time linear in the
 * tree's size, with at most two of its directories open at once. Each directory found below the
 * top one is first renamed into the top one under a fresh name, so the removal never goes more
 * than one level down and no path grows with the depth. A recursive descent held a directory open
 * per level (a chain 20,000 deep, which a command makes in a second, ran the server out of fds),
 * and Bun's rm takes time quadratic in the depth (found by a review: a chain 1,500 deep held the
 * server's event loop for 10 s when its session ended, 25,000 for hours). Never follows a
 * symlink: every entry is looked at with lstat, and directories are opened without following.
 * A mount point (or anything else that cannot be renamed) stops the removal with its error.
 */
export async function removeDirectory(root: ConfinedRoot, parent: OpenDir, name: EntryName): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let top: OpenDir;
    try {
      top = await openDirAt(root, parent, name);
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === "ENOENT") return;
      // No longer a directory (a symlink or a file swapped in): the name itself goes.
      if (errno === "ENOTDIR") return await unlinkQuietly(entryPathOf(root, parent, name));
      throw error;
    }
    try {
      await emptyFlat(root, top);
    } finally {
      closeFd(top.fd);
    }
    if (await removedDirectory(entryPathOf(root, parent, name), attempt)) return;
  }
}

/** rmdir; false when the directory is not empty (again), which may be retried up to MAX_EMPTY_ATTEMPTS. */
async function removedDirectory(path: string | Buffer, attempt: number): Promise<boolean> {
  try {
    await rmdirPath(path);
    return true;
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === "ENOENT") return true;
    if (errno === "ENOTDIR") {
      await unlinkQuietly(path);
      return true;
    }
    if ((errno !== "ENOTEMPTY" && errno !== "EEXIST") || attempt >= MAX_EMPTY_ATTEMPTS) throw error;
    return false;
  }
}

async function unlinkQuietly(path: string | Buffer): Promise<void> {
  await unlinkPath(path).catch((error: unknown) => {
    if (errnoOf(error) !== "ENOENT") throw error;
  });
}

/**
 * Empties `top`: its own entries go, its directories are emptied one at a time, and each directory
 * found in one of them is first gathered into `top` (renamed there under a fresh name) to be emptied
 * in its turn. Names are read as bytes: one that is not UTF-8 (from a tar archive) must go too.
 */
async function emptyFlat(root: ConfinedRoot, top: OpenDir): Promise<void> {
  // Directories of `top` still to empty and remove, with the times each was emptied already.
  const pending: { name: EntryName; attempts: number }[] = [];
  await forEachEntry(root, top, async (name, isDirectory) => {
    if (isDirectory) pending.push({ name, attempts: 0 });
    else await unlinkQuietly(entryPathOf(root, top, name));
  });
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    let dir: OpenDir;
    try {
      dir = await openDirAt(root, top, next.name);
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === "ENOENT") continue;
      if (errno === "ENOTDIR") {
        await unlinkQuietly(entryPathOf(root, top, next.name));
        continue;
      }
      throw error;
    }
    try {
      await forEachEntry(root, dir, async (name, isDirectory) => {
        if (!isDirectory) return await unlinkQuietly(entryPathOf(root, dir, name));
        const gathered = await gather(root, dir, name, top);
        if (gathered !== null) pending.push({ name: gathered, attempts: 0 });
      });
    } finally {
      closeFd(dir.fd);
    }
    if (!(await removedDirectory(entryPathOf(root, top, next.name), ++next.attempts))) pending.push(next);
  }
}

/** Entries handled at once: one at a time, each waiting for the thread pool, 20,000 files took 4 s (rmSync: 0.3 s). */
const ENTRY_BATCH = 64;

/**
 * Calls `handle` for each entry of `dir` (lstat: a symlink is not a directory), ENTRY_BATCH at a
 * time; entries gone meanwhile are skipped. A failure is thrown once its whole batch has settled:
 * the calls name entries through `dir`'s fd, which the caller closes next, and a call still under
 * way would then go through whatever the kernel opens under that number.
 */
async function forEachEntry(root: ConfinedRoot, dir: OpenDir, handle: (name: EntryName, isDirectory: boolean) => Promise<void>): Promise<void> {
  const names = await readEntryNames(root, dir);
  for (let start = 0; start < names.length; start += ENTRY_BATCH) {
    const settled = await Promise.allSettled(
      names.slice(start, start + ENTRY_BATCH).map(async (name) => {
        const stats = await lstatPath(entryPathOf(root, dir, name)).catch(() => null);
        if (stats) await handle(name, stats.isDirectory());
      }),
    );
    const failed = settled.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  }
}

/** Renames directory `name` of `dir` into `top` under a fresh name, which it returns; null when it is gone. */
async function gather(root: ConfinedRoot, dir: OpenDir, name: EntryName, top: OpenDir): Promise<string | null> {
  for (;;) {
    const gathered = `${GATHERED_PREFIX}${randomText(GATHERED_RANDOM_BYTES, "hex")}`;
    try {
      await renamePath(entryPathOf(root, dir, name), entryPath(root, top, gathered));
      return gathered;
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === "ENOENT") return null;
      // The fresh name is taken (by a command, in a live workspace): another one.
      if (errno === "EEXIST" || errno === "ENOTEMPTY" || errno === "ENOTDIR" || errno === "EISDIR") continue;
      throw error;
    }
  }
}
