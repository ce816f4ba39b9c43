import type { Stats } from "node:fs";
import type { FileEntry, FileEntryType } from "../protocol/index.ts";
import { FileError } from "./file-error.ts";
import { formatComponents, type Components } from "./workspace-path.ts";

/** The wire name of a path's type. */
export function entryTypeOf(stats: Stats): FileEntryType {
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "directory";
  if (stats.isSymbolicLink()) return "symlink";
  if (stats.isFIFO()) return "fifo";
  if (stats.isSocket()) return "socket";
  return "device";
}

/** The wire form of one path's lstat (or fstat); `target` for symlinks. */
export function describeEntry(components: Components, stats: Stats, target?: string): FileEntry {
  return {
    path: formatComponents(components),
    name: components.at(-1) ?? ".",
    type: entryTypeOf(stats),
    size: stats.size,
    mode: stats.mode & 0o7777,
    mtimeMs: Math.trunc(stats.mtimeMs),
    uid: stats.uid,
    gid: stats.gid,
    nlink: stats.nlink,
    ...(target !== undefined && { target }),
  };
}

/**
 * Refuses what the server never reads or writes the bytes of: directories (`is_directory`), fifos,
 * sockets and devices, and files with more than one hard link, whose other names may lie outside
 * the workspace (`unsupported_file_type`).
 */
export function assertContentFile(stats: Stats, label: string): void {
  if (stats.isDirectory()) throw new FileError("is_directory", `${label} is a directory`);
  if (!stats.isFile()) throw new FileError("unsupported_file_type", `${label} is a ${entryTypeOf(stats)}; only regular files are read or written`);
  if (stats.nlink > 1) {
    throw new FileError("unsupported_file_type", `${label} has ${stats.nlink} hard links; the server does not read or write files with more than one`);
  }
}
