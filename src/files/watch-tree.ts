import { basename } from "node:path";
import { watch, type FSWatcher } from "node:fs";
import { FileError, errnoOf, toFileError } from "./file-error.ts";
import { closeFd, fstatFd, lstatPath, readdirNames } from "./fs-calls.ts";
import { entryPath, lstatAt, openDirAt } from "./confined-root.ts";
import { createEventBatcher, type WatchEvent } from "./event-batcher.ts";
import type { FileScope } from "./file-scope.ts";
import type { OpenDir } from "./platform/index.ts";
import { isTempName } from "./place-file.ts";
import { isGatheredName } from "./remove-tree.ts";
import { isPartialName } from "./upload-writer.ts";
import { isStillAt, walkPath } from "./walk.ts";
import type { WatchBudget } from "./watch-budget.ts";
import { formatComponents, type ClientPath, type Components } from "./workspace-path.ts";

/** What a watch does, and where its events go. */
export interface TreeWatchOptions {
  readonly recursive: boolean;
  /** The session's and the server's count of watched directories, each directory taken from it; undefined: only the per-watch limit. */
  readonly budget?: WatchBudget | undefined;
  congestion(): Promise<void> | undefined;
  send(events: WatchEvent[], overflow: boolean): void;
  /** The watched directory itself was removed or moved away: its last events are sent, nothing follows. */
  ended(): void;
}

/** A directory (and with `recursive` everything under it) being watched. */
export interface TreeWatch {
  /** The watched directory, symlinks resolved. */
  readonly path: string;
  close(): void;
}

const key = (components: Components) => components.join("/");

/** How often at most a watch looks for its top directory at its place (see onEvent). */
const TOP_LOOK_MS = 50;

/** A directory with a watcher: where it is, and which inode was watched there. */
interface WatchedDirectory {
  readonly components: Components;
  readonly dev: number;
  readonly ino: number;
}

/**
 * How many entries of one directory are looked at and watched at once, and how many workers a whole
 * tree may have. One after the other, each directory cost ~0.56 ms of awaited file calls (lstat,
 * open, its check, fstat, the watch, readdir): 16,384 directories took 8.4 s; with workers, 1.9 s
 * (measured). Each worker holds one directory open while it walks it, so a tree's walk holds at most
 * MAX_WORKERS_PER_TREE directories open, plus one per level where the cap left a single worker.
 */
const WORKERS_PER_DIRECTORY = 16;
const MAX_WORKERS_PER_TREE = 32;

/**
 * Watches with one non-recursive watcher per directory, each started on a directory the walk
 * opened (proc-fd: `/proc/self/fd/<fd>`, so inotify watches that very inode and no symlink can
 * redirect it). Directories that appear are watched and their contents announced as `create`;
 * symlinks are reported, never followed. Events are `create` or `remove` (from a rename event,
 * by whether the path exists now) and `modify`.
 */
export async function watchTree(scope: FileScope, path: ClientPath, options: TreeWatchOptions): Promise<TreeWatch> {
  const { label } = path;
  const walked = await walkPath(scope.root, path.components, { label, followLast: true, directory: path.directory });
  let top: OpenDir;
  try {
    top = walked.name === null ? walked.dir : await openDirAt(scope.root, walked.dir, walked.name);
  } catch (error) {
    walked.close();
    const errno = errnoOf(error);
    if (errno === "ENOENT") throw new FileError("not_found", `${label} does not exist in the workspace`);
    if (errno === "ENOTDIR") throw new FileError("not_directory", `${label} is not a directory`);
    throw toFileError(error, `watch ${label}`);
  }
  const root = scope.root;
  const watchers = new Map<string, FSWatcher>();
  const batcher = createEventBatcher({ batchMs: scope.limits.watchBatchMs, maxPending: scope.limits.maxPendingEvents, ...options });
  let closed = false;
  let queue: Promise<void> = Promise.resolve();
  /** Workers walking the tree now, each holding at most one directory open (see watchDirectory). */
  let activeWorkers = 0;
  /** The top directory as it was watched, and when it was last found at its place (see onEvent). */
  let topWatched: WatchedDirectory | undefined;
  let topSeenAt = 0;

  const unwatchSubtree = (components: Components) => {
    const prefix = key(components);
    for (const [dirKey, watcher] of watchers) {
      if (dirKey === prefix || dirKey.startsWith(`${prefix}/`)) {
        watcher.close();
        watchers.delete(dirKey);
        options.budget?.release(1);
      }
    }
  };
  const unwatchAll = () => {
    for (const watcher of watchers.values()) watcher.close();
    options.budget?.release(watchers.size);
    watchers.clear();
  };

  /** Watches an open directory, and with `recursive` what is under it; `announce` reports its contents as created. */
  const watchDirectory = async (dir: OpenDir, announce: boolean): Promise<void> => {
    if (closed || watchers.has(key(dir.components))) return;
    if (watchers.size >= scope.limits.maxWatchedDirectories) return batcher.overflow();
    const { dev, ino } = await fstatFd(dir.fd);
    if (closed || watchers.has(key(dir.components))) return;
    // Again after the await: other workers may have taken the last places meanwhile.
    if (watchers.size >= scope.limits.maxWatchedDirectories) return batcher.overflow();
    const watched = { components: dir.components, dev, ino };
    if (dir === top) topWatched = watched;
    // The session's or the server's budget spent: the top is refused, a directory below is an overflow.
    const refused = options.budget?.take();
    if (refused) {
      if (watchers.size === 0) throw new FileError("limit_exceeded", `${label}: ${refused}`);
      return batcher.overflow();
    }
    let watcher: FSWatcher;
    try {
      watcher = watch(root.scheme.dirPath(dir), { persistent: false }, (eventType, name) => {
        // The server's own temporary files are noise: their rename over the target is the event. So are
        // the directories a removal gathers: the removal of what the client asked to remove is.
        if (typeof name !== "string" || name.length === 0 || isTempName(name) || isPartialName(name) || isGatheredName(name)) return;
        queue = queue.then(() => onEvent(eventType, watched, name)).catch(() => {});
      });
    } catch (error) {
      options.budget?.release(1);
      // Out of inotify watches (fs.inotify.max_user_watches), say: the top must work, the rest is an overflow.
      if (watchers.size === 0) throw error;
      return batcher.overflow();
    }
    watcher.on("error", () => unwatchSubtree(dir.components));
    watchers.set(key(dir.components), watcher);
    const names = announce || options.recursive ? await readdirNames(root.scheme.dirPath(dir)).catch(() => []) : [];
    if (closed) return;
    if (announce) for (const name of names) batcher.push({ type: "create", path: formatComponents([...dir.components, name]) });
    if (!options.recursive) return;
    // The entries in turn, by several workers at once while the tree's cap allows, one otherwise.
    let next = 0;
    const worker = async () => {
      while (next < names.length && !closed) {
        const name = names[next++]!;
        const stats = await lstatPath(entryPath(root, dir, name)).catch(() => null);
        if (!stats?.isDirectory()) continue;
        const child = await openDirAt(root, dir, name).catch(() => null);
        if (!child) continue;
        try {
          await watchDirectory(child, announce);
        } finally {
          closeFd(child.fd);
        }
      }
    };
    const workers = Math.max(1, Math.min(WORKERS_PER_DIRECTORY, names.length, MAX_WORKERS_PER_TREE - activeWorkers));
    activeWorkers += workers;
    try {
      await Promise.all(Array.from({ length: workers }, worker));
    } finally {
      activeWorkers -= workers;
    }
  };

  /** Whether the directory a watcher was started on is still at its place (Bun reports its own removal as a child of its name). */
  const stillThere = (watched: WatchedDirectory): Promise<boolean> => isStillAt(root, watched.components, watched);

  /** Whether something (of any type, not followed) is at `components` now. */
  const exists = async (components: string[]): Promise<boolean> => {
    const walked = await walkPath(root, components, { label: formatComponents(components), followLast: false }).catch(() => null);
    if (!walked) return false;
    try {
      return walked.name === null || (await lstatAt(root, walked.dir, walked.name)) !== null;
    } finally {
      walked.close();
    }
  };

  const onEvent = async (eventType: string, watched: WatchedDirectory, name: string): Promise<void> => {
    if (closed) return;
    // A move of one of the top's parents (`mv p q` under a watch of p/c) sends the watch nothing, and
    // its later events named the old path (found by a review): the top is looked for at its place
    // before an event goes out, once per TOP_LOOK_MS at most (a walk from the workspace each time),
    // and the watch ends as for a removal when it has gone from there.
    if (topWatched && performance.now() - topSeenAt > TOP_LOOK_MS) {
      if (!(await stillThere(topWatched))) return end();
      topSeenAt = performance.now();
    }
    const changed = [...watched.components, name];
    const path = formatComponents(changed);
    // The name Bun gives the directory's own events: its last component, or for the workspace
    // itself the workspace directory's name on the host.
    if (name === (watched.components.at(-1) ?? basename(root.workspace))) {
      if (!(await stillThere(watched))) {
        unwatchSubtree(watched.components);
        if (key(watched.components) === key(top.components)) await end();
        return;
      }
      // Bun names a change of the directory itself (chmod, touch) by the directory's own name: a
      // `change` with no child of that name is the directory's, not a path inside it (the watch said
      // `modify w/w` for `touch w`, a path that never existed). A child of that name removed is a
      // `rename`. A subdirectory's own change is reported by its parent's watch; the top's is said here.
      if (eventType === "change" && !(await exists(changed))) {
        if (key(watched.components) === key(top.components)) batcher.push({ type: "modify", path: formatComponents(top.components) });
        return;
      }
    }
    if (eventType === "change") return batcher.push({ type: "modify", path });
    unwatchSubtree(changed);
    const walkedNow = await walkPath(root, changed, { label: path, followLast: false }).catch(() => null);
    if (!walkedNow) return batcher.push({ type: "remove", path });
    try {
      const stats = walkedNow.name === null ? null : await lstatAt(root, walkedNow.dir, walkedNow.name);
      batcher.push({ type: stats ? "create" : "remove", path });
      if (!stats?.isDirectory() || !options.recursive || walkedNow.name === null) return;
      const child = await openDirAt(root, walkedNow.dir, walkedNow.name).catch(() => null);
      if (!child) return;
      try {
        await watchDirectory(child, true);
      } finally {
        closeFd(child.fd);
      }
    } finally {
      walkedNow.close();
    }
  };

  /** The watch cannot go on (its directory is gone): say so with a last `remove`, then stop. */
  const end = async () => {
    batcher.push({ type: "remove", path: formatComponents(top.components) });
    await batcher.finish();
    if (closed) return;
    closed = true;
    unwatchAll();
    options.ended();
  };

  try {
    await watchDirectory(top, false);
  } catch (error) {
    unwatchAll();
    throw toFileError(error, `watch ${label}`);
  } finally {
    if (top !== walked.dir) closeFd(top.fd);
    walked.close();
  }
  return {
    path: formatComponents(top.components),
    close() {
      closed = true;
      batcher.close();
      unwatchAll();
    },
  };
}
