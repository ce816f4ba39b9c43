import type { FileEntry } from "../protocol/index.ts";
import { describeEntry } from "./describe-entry.ts";
import { FileError, errnoOf, toFileError } from "./file-error.ts";
import { closeFd, fstatFd, lstatPath, readlinkPath } from "./fs-calls.ts";
import { entryPathOf, nameText, openDirAt, readEntryNames, type ConfinedRoot, type EntryName } from "./confined-root.ts";
import type { FileScope } from "./file-scope.ts";
import { measureUsage } from "./usage.ts";
import type { OpenDir } from "./platform/index.ts";
import { walkPath } from "./walk.ts";
import type { ClientPath } from "./workspace-path.ts";

/** Describes entry `name` of `dir` as lstat sees it, with a symlink's target; null when it is gone. */
export async function describeEntryAt(root: ConfinedRoot, dir: OpenDir, name: EntryName): Promise<FileEntry | null> {
  const path = entryPathOf(root, dir, name);
  const stats = await lstatPath(path).catch(() => null);
  if (!stats) return null;
  const target = stats.isSymbolicLink() ? await readlinkPath(path).catch(() => "") : undefined;
  return describeEntry([...dir.components, nameText(name)], stats, target);
}

/**
 * One path's metadata; a symlink is described, not followed, unless the path ends in `/` (as
 * stat(2) does). The workspace itself adds its usage.
 */
export async function statPath(scope: FileScope, path: ClientPath): Promise<{ entry: FileEntry; usage?: { usedBytes: number; quotaBytes: number | null } }> {
  const { label } = path;
  const walked = await walkPath(scope.root, path.components, { label, followLast: path.directory, directory: path.directory });
  try {
    if (walked.name === null) {
      const entry = describeEntry([], await fstatFd(walked.dir.fd));
      return { entry, usage: { usedBytes: await measureUsage(scope.root), quotaBytes: scope.quotaBytes ?? null } };
    }
    const entry = await describeEntryAt(scope.root, walked.dir, walked.name);
    if (!entry) throw new FileError("not_found", `${label} does not exist in the workspace`);
    return { entry };
  } catch (error) {
    throw toFileError(error, `stat ${label}`);
  } finally {
    walked.close();
  }
}

/**
 * The entries of a directory, `depth` levels down, in pre-order (a directory, then what is in it),
 * names sorted. Symlinks are listed, never descended. Stops at `maxListEntries` with `truncated`.
 */
export async function listDirectory(scope: FileScope, path: ClientPath, depth: number): Promise<{ entries: FileEntry[]; truncated: boolean }> {
  const { label } = path;
  const walked = await walkPath(scope.root, path.components, { label, followLast: true, directory: path.directory });
  let dir: OpenDir = walked.dir;
  try {
    if (walked.name !== null) {
      try {
        dir = await openDirAt(scope.root, walked.dir, walked.name);
      } catch (error) {
        const errno = errnoOf(error);
        if (errno === "ENOENT") throw new FileError("not_found", `${label} does not exist in the workspace`);
        if (errno === "ENOTDIR") throw new FileError("not_directory", `${label} is not a directory`);
        throw error;
      }
    }
    const listing = { entries: [] as FileEntry[], truncated: false };
    await listInto(scope.root, dir, depth, scope.limits.maxListEntries, listing);
    return listing;
  } catch (error) {
    throw toFileError(error, `list ${label}`);
  } finally {
    if (dir !== walked.dir) closeFd(dir.fd);
    walked.close();
  }
}

async function listInto(root: ConfinedRoot, dir: OpenDir, depth: number, maxEntries: number, listing: { entries: FileEntry[]; truncated: boolean }): Promise<void> {
  // Names that are not UTF-8 are listed too, decoded with U+FFFD (JSON cannot carry their bytes).
  const names = (await readEntryNames(root, dir)).sort((a, b) => (nameText(a) < nameText(b) ? -1 : nameText(a) > nameText(b) ? 1 : 0));
  for (const name of names) {
    if (listing.entries.length >= maxEntries) {
      listing.truncated = true;
      return;
    }
    const entry = await describeEntryAt(root, dir, name);
    if (!entry) continue;
    listing.entries.push(entry);
    if (entry.type !== "directory" || depth <= 1) continue;
    const child = await openDirAt(root, dir, name).catch(() => null);
    if (!child) continue;
    try {
      await listInto(root, child, depth - 1, maxEntries, listing);
    } finally {
      closeFd(child.fd);
    }
    if (listing.truncated) return;
  }
}
