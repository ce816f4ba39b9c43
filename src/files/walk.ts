import type { Stats } from "node:fs";
import { FileError, errnoOf, toFileError } from "./file-error.ts";
import { closeFd, fstatFd, readlinkPath } from "./fs-calls.ts";
import { entryPath, lstatAt, mkdirAt, openDirAt, openRootDir, type ConfinedRoot } from "./confined-root.ts";
import type { OpenDir } from "./platform/index.ts";
import { formatComponents, resolveLinkTarget, type Components } from "./workspace-path.ts";

/** Symlinks followed in one walk before giving up, as Linux's MAXSYMLINKS. */
export const MAX_SYMLINKS = 40;
/** Times one walk re-tries a component that changed under it before giving up. */
export const MAX_RACE_RETRIES = 100;

/** How walkPath treats the path it walks. */
export interface WalkOptions {
  /** How the path appears in messages, e.g. `path: "a/b"`. */
  readonly label: string;
  /** Resolve a symlink in the last component too (read, write); otherwise name the link itself (stat, remove, move). */
  readonly followLast: boolean;
  /** Create missing directories on the way, with this mode. */
  readonly parentsMode?: number | undefined;
  /**
   * The path ended in `/`: where it leads must be a directory, or nothing (the caller decides what a
   * missing name means). A file, or a last symlink that is not followed, is `not_directory`.
   */
  readonly directory?: boolean | undefined;
}

/** Where a path leads: the open directory that holds it, and its name there. */
export interface Walked {
  /** The directory holding the target; the workspace itself when `name` is null. */
  readonly dir: OpenDir;
  /** The target's name in `dir`; null when the target is the workspace itself. */
  readonly name: string | null;
  /** The target's components once symlinks are resolved. */
  readonly components: Components;
  /** Whether the walk followed a symlink on the way (`components` is then not the path asked for). */
  readonly throughLink: boolean;
  /** Closes what the walk holds open. */
  close(): void;
}

/**
 * Walks `path` from the workspace one component at a time, each directory opened with O_NOFOLLOW
 * through the one before it (see PathScheme). A symlink is never followed by the kernel; the walk
 * reads it and starts again from the workspace at its target, and a target outside the workspace
 * is `path_outside_workspace`. A component that changes under the walk is looked at again.
 */
export async function walkPath(root: ConfinedRoot, path: Components, options: WalkOptions): Promise<Walked> {
  const rootDir = await openRootDir(root);
  let current = rootDir;
  const release = (dir: OpenDir) => {
    if (dir !== rootDir) closeFd(dir.fd);
  };
  const done = (name: string | null): Walked => {
    const dir = current;
    const components = name === null ? dir.components : [...dir.components, name];
    let closed = false;
    return {
      dir,
      name,
      components,
      throughLink: links > 0,
      // Idempotent: a second close of a number the kernel has handed out again would close another file.
      close() {
        if (closed) return;
        closed = true;
        release(dir);
        closeFd(rootDir.fd);
      },
    };
  };
  let queue = [...path];
  let links = 0;
  let retries = 0;
  const retry = () => {
    if (++retries > MAX_RACE_RETRIES) throw new FileError("not_found", `${options.label} kept changing while the server walked it`);
  };
  // As in POSIX, `a.txt/` is ENOTDIR rather than a.txt: the components alone would drop the slash.
  const assertDirectory = (name: string, stats: Stats | null) => {
    if (!options.directory || stats === null || stats.isDirectory()) return;
    const what = stats.isSymbolicLink() ? "a symlink, which this request does not follow" : "not a directory";
    throw new FileError("not_directory", `${options.label} ends in /, but ${formatComponents([...current.components, name])} is ${what}`);
  };
  try {
    for (;;) {
      const name = queue[0];
      if (name === undefined) return done(null);
      const last = queue.length === 1;
      if (last && !options.followLast) {
        if (options.directory) assertDirectory(name, await lstatAt(root, current, name));
        return done(name);
      }
      if (last) {
        const stats = await lstatAt(root, current, name);
        if (!stats?.isSymbolicLink()) {
          assertDirectory(name, stats);
          return done(name);
        }
      } else {
        try {
          const next = await openDirAt(root, current, name);
          release(current);
          current = next;
          queue.shift();
          continue;
        } catch (error) {
          const errno = errnoOf(error);
          if (errno === "ENOENT") {
            if (options.parentsMode === undefined) throw notFound(options.label, [...current.components, name]);
            // Something else made the name first: look again, as for any change under the walk.
            if (!(await mkdirAt(root, current, name, options.parentsMode))) retry();
            continue;
          }
          if (errno !== "ENOTDIR" && errno !== "ELOOP") throw toFileError(error, `open ${formatComponents([...current.components, name])}`);
          const stats = await lstatAt(root, current, name);
          if (stats === null || stats.isDirectory()) {
            retry();
            continue;
          }
          if (!stats.isSymbolicLink()) {
            throw new FileError("not_directory", `${options.label}: ${formatComponents([...current.components, name])} is not a directory`);
          }
        }
      }
      // `name` is a symlink: read it, and start again from the workspace at its target.
      if (++links > MAX_SYMLINKS) throw new FileError("limit_exceeded", `${options.label} goes through more than ${MAX_SYMLINKS} symlinks`);
      let target: string;
      try {
        target = await readlinkPath(entryPath(root, current, name));
      } catch {
        retry();
        continue;
      }
      const resolved = resolveLinkTarget(root.workspace, current.components, target);
      if (resolved === null) {
        throw new FileError(
          "path_outside_workspace",
          `${options.label} leads outside the workspace through the symlink ${formatComponents([...current.components, name])}`,
        );
      }
      queue = [...resolved, ...queue.slice(1)];
      release(current);
      current = rootDir;
    }
  } catch (error) {
    release(current);
    closeFd(rootDir.fd);
    throw toFileError(error, `walk ${options.label}`);
  }
}

function notFound(label: string, missing: Components): FileError {
  return new FileError("not_found", `${label} does not exist in the workspace (no ${formatComponents(missing)})`);
}

/**
 * Whether what is at `path` now (not followed) is the file or directory `identity` was taken from:
 * a watched directory that a command moved or replaced, or an upload's directory, is not.
 */
export async function isStillAt(root: ConfinedRoot, path: Components, identity: { dev: number; ino: number }): Promise<boolean> {
  const walked = await walkPath(root, path, { label: formatComponents(path), followLast: false }).catch(() => null);
  if (!walked) return false;
  try {
    const stats = walked.name === null ? await fstatFd(walked.dir.fd) : await lstatAt(root, walked.dir, walked.name);
    return stats !== null && stats.dev === identity.dev && stats.ino === identity.ino;
  } finally {
    walked.close();
  }
}

