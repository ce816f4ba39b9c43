import type { Stats } from "node:fs";
import { dirname } from "node:path";
import { FileError } from "./file-error.ts";
import { closeFd, fstatFd, lstatPath, openFd } from "./fs-calls.ts";
import { directoryOpenFlags, entryPath, entryPathOf, openDirAt, openRootDir, readEntryNames, type ConfinedRoot, type EntryName } from "./confined-root.ts";
import type { OpenDir } from "./platform/index.ts";

/** lstat calls in flight at once while measuring one directory. */
const STAT_BATCH = 64;

/** One directory on the way down: which it is, and the subdirectories of it still to measure. */
interface Level {
  readonly dev: number;
  readonly ino: number;
  readonly subdirectories: EntryName[];
}

/**
 * Bytes the workspace holds: the apparent sizes of its regular files, found without following any
 * symlink. Entries that vanish while it counts are skipped. It reads the whole tree, so it is as slow
 * as the workspace is large; only a quota (and a stat of the workspace) asks for it.
 *
 * One directory is open at a time, however deep the tree: the walk goes back up through `..`, which
 * must be the very directory it came down from (else `not_found`: the workspace changed under it).
 * Holding one open per level, a chain of directories deeper than the server's open-file limit (a
 * command makes 20,000 levels in a second) took every fd the server had while it counted, so that
 * other sessions' opens failed with EMFILE, and what lay below went uncounted (found by a review).
 */
export async function measureUsage(root: ConfinedRoot): Promise<number> {
  let dir = await openRootDir(root);
  let total = 0;
  const add = (bytes: number) => {
    total += bytes;
  };
  try {
    const path = [await measureLevel(root, dir, add)];
    for (;;) {
      const level = path[path.length - 1]!;
      const name = level.subdirectories.pop();
      if (name !== undefined) {
        const child = await openDirAt(root, dir, name).catch(() => null);
        if (!child) continue;
        closeFd(dir.fd);
        dir = child;
        path.push(await measureLevel(root, dir, add));
        continue;
      }
      path.pop();
      const parent = path[path.length - 1];
      if (parent === undefined) return total;
      const opened = await openParent(root, dir, parent);
      closeFd(dir.fd);
      dir = opened;
    }
  } finally {
    closeFd(dir.fd);
  }
}

/** Adds up the regular files of `dir` and lists its subdirectories. */
async function measureLevel(root: ConfinedRoot, dir: OpenDir, add: (bytes: number) => void): Promise<Level> {
  const { dev, ino } = await fstatFd(dir.fd);
  const level: Level = { dev, ino, subdirectories: [] };
  let names: EntryName[];
  try {
    names = await readEntryNames(root, dir);
  } catch {
    return level;
  }
  for (let start = 0; start < names.length; start += STAT_BATCH) {
    const batch = names.slice(start, start + STAT_BATCH);
    const stats = await Promise.all(batch.map((name) => lstatPath(entryPathOf(root, dir, name)).catch((): Stats | null => null)));
    stats.forEach((entry, index) => {
      if (entry?.isFile()) add(entry.size);
      else if (entry?.isDirectory()) level.subdirectories.push(batch[index]!);
    });
  }
  return level;
}

/** Opens `..` of `dir`, which must be `parent`, the directory the walk came down from. */
async function openParent(root: ConfinedRoot, dir: OpenDir, parent: Level): Promise<OpenDir> {
  const fd = await openFd(entryPath(root, dir, ".."), directoryOpenFlags(root));
  const opened = { fd, components: dir.components.slice(0, -1), hostPath: dirname(dir.hostPath) };
  const { dev, ino } = await fstatFd(fd).catch(() => ({ dev: -1, ino: -1 }));
  if (dev !== parent.dev || ino !== parent.ino) {
    closeFd(fd);
    throw new FileError("not_found", "the workspace changed while its usage was measured; ask again");
  }
  return opened;
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
