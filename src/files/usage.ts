import type { Stats } from "node:fs";
import { FileError } from "./file-error.ts";
import { closeFd, lstatPath } from "./fs-calls.ts";
import { entryPathOf, openDirAt, openRootDir, readEntryNames, type ConfinedRoot, type EntryName } from "./confined-root.ts";
import type { OpenDir } from "./platform/index.ts";

/** lstat calls in flight at once while measuring one directory. */
const STAT_BATCH = 64;

/**
 * Bytes the workspace holds: the apparent sizes of its regular files, found without following any
 * symlink. Entries that vanish while it counts are skipped. It reads the whole tree, so it is as slow
 * as the workspace is large; only a quota asks for it.
 */
export async function measureUsage(root: ConfinedRoot): Promise<number> {
  const rootDir = await openRootDir(root);
  try {
    return await measureDirectory(root, rootDir);
  } finally {
    closeFd(rootDir.fd);
  }
}

async function measureDirectory(root: ConfinedRoot, dir: OpenDir): Promise<number> {
  let names: EntryName[];
  try {
    names = await readEntryNames(root, dir);
  } catch {
    return 0;
  }
  let total = 0;
  const subdirectories: EntryName[] = [];
  for (let start = 0; start < names.length; start += STAT_BATCH) {
    const batch = names.slice(start, start + STAT_BATCH);
    const stats = await Promise.all(batch.map((name) => lstatPath(entryPathOf(root, dir, name)).catch((): Stats | null => null)));
    stats.forEach((entry, index) => {
      if (entry?.isFile()) total += entry.size;
      else if (entry?.isDirectory()) subdirectories.push(batch[index]!);
    });
  }
  for (const name of subdirectories) {
    let child: OpenDir;
    try {
      child = await openDirAt(root, dir, name);
    } catch {
      continue;
    }
    try {
      total += await measureDirectory(root, child);
    } finally {
      closeFd(child.fd);
    }
  }
  return total;
}

/**
 * Throws `quota_exceeded` when the workspace would hold `usedBytes` after the write, past the quota
 * (undefined: no quota). A write that leaves it no larger than `usedBeforeBytes` passes even past the
 * quota: a command may have filled the workspace, and truncating or shrinking a file must still work.
 */
export function assertWithinQuota(quotaBytes: number | undefined, usedBytes: number, what: string, usedBeforeBytes: number): void {
  if (quotaBytes !== undefined && usedBytes > quotaBytes && usedBytes > usedBeforeBytes) {
    throw new FileError("quota_exceeded", `${what} would bring the workspace to ${usedBytes} bytes, past its quota of ${quotaBytes}`);
  }
}
