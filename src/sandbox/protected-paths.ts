import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, openSync, readdirSync, readSync, renameSync, type Stats, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";

/** Paths inside every workspace that commands see read-only when they exist: host tools run them. */
export const DEFAULT_PROTECTED_PATHS = [".git/hooks", ".git/config"] as const;

/** A protected path opened by the server: the fd pins what bwrap binds read-only at `path`. */
export interface OpenedProtectedPath {
  /** Absolute path inside the workspace (the bind's destination). */
  path: string;
  fd: number;
}

const WALK_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const LEAF_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Opens each protected path that exists as a real directory or file, walking component by
 * component without following a symlink (through /proc/self/fd, so a component swapped while we
 * walk cannot redirect the walk). bwrap then binds the open fd (`--ro-bind-fd`): a command that
 * swaps the path for a symlink cannot make bwrap bind something else from the host, and nothing is
 * created on the host for a path that does not exist (no stub files). Linux only; the caller
 * closes the fds after the spawn.
 *
 * This runs before every exec, so the common case is cheap: a path whose first component does not
 * exist (most workspaces are not git repositories) costs one lstat that does not throw. Skipping it
 * opens no window: a command that creates the path later could have written it anyway, and the
 * next exec protects it.
 */
export function openProtectedPaths(workspace: string, relativePaths: readonly string[]): OpenedProtectedPath[] {
  const opened: OpenedProtectedPath[] = [];
  // The defaults share their first component (.git): look each one up once.
  const present = new Map<string, boolean>();
  let root: number | undefined;
  try {
    for (const relative of relativePaths) {
      const components = relative.split("/").filter((part) => part.length > 0 && part !== ".");
      if (components.length === 0 || components.includes("..")) continue;
      const first = components[0]!;
      let exists = present.get(first);
      if (exists === undefined) {
        exists = lstatSync(`${workspace}/${first}`, { throwIfNoEntry: false }) !== undefined;
        present.set(first, exists);
      }
      if (!exists) continue;
      if (root === undefined) {
        try {
          root = openSync(workspace, WALK_FLAGS);
        } catch {
          return opened;
        }
      }
      const leaf = openBeneath(root, components);
      if (leaf !== undefined) opened.push({ path: `${workspace}/${components.join("/")}`, fd: leaf });
    }
  } finally {
    if (root !== undefined) closeSync(root);
  }
  return opened;
}

/** Opens `components` under the directory `root` without following symlinks; a directory or a regular file, or undefined. */
function openBeneath(root: number, components: string[], unshared = false): number | undefined {
  let dir = root;
  try {
    for (const [index, name] of components.entries()) {
      const last = index === components.length - 1;
      let next: number;
      try {
        next = openSync(`/proc/self/fd/${dir}/${name}`, last ? LEAF_FLAGS : WALK_FLAGS);
      } catch {
        return undefined;
      }
      if (!last) {
        if (dir !== root) closeSync(dir);
        dir = next;
        continue;
      }
      const stats = fstatSync(next);
      if (stats.isFile() && stats.nlink > 1 && !unshared) {
        // Another name for the same file would stay writable: give the protected name a copy of its
        // own. (A command of another exec that links it again at once only keeps that link; the
        // name is bound read-only all the same.)
        closeSync(next);
        tryUnshareFile(dir, name, stats);
        return openBeneath(root, components, true);
      }
      if (dir !== root) closeSync(dir);
      dir = root;
      if (stats.isDirectory()) {
        unshareFilesIn(next);
        return next;
      }
      if (!stats.isFile()) {
        closeSync(next);
        return undefined;
      }
      return next;
    }
    return undefined;
  } finally {
    if (dir !== root) closeSync(dir);
  }
}

/**
 * Replaces `name` in the directory `dir` (an fd) by a copy of it, so that other hard links to the
 * file no longer reach what is protected. A command could otherwise link `.git/config` to `cfg` in
 * the exec that creates it, and rewrite it through `cfg` in every later exec, read-only bind or not.
 * The copy keeps the mode and, when the server may set it, the owner; it is renamed over the name.
 */
function unshareFile(dir: number, name: string, stats: Stats): void {
  const at = (entry: string) => `/proc/self/fd/${dir}/${entry}`;
  const temporary = `.${name}.bunker-${randomBytes(6).toString("hex")}`;
  const source = openSync(at(name), LEAF_FLAGS);
  let copy: number | undefined;
  try {
    copy = openSync(at(temporary), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    const buffer = new Uint8Array(64 * 1024);
    for (let position = 0; ; ) {
      const read = readSync(source, buffer, 0, buffer.byteLength, position);
      if (read === 0) break;
      for (let written = 0; written < read; ) written += writeSync(copy, buffer, written, read - written);
      position += read;
    }
    if (process.geteuid?.() === 0) fchownSync(copy, stats.uid, stats.gid);
    fchmodSync(copy, stats.mode & 0o7777);
    closeSync(copy);
    copy = undefined;
    renameSync(at(temporary), at(name));
  } catch (error) {
    if (copy !== undefined) closeSync(copy);
    try {
      unlinkSync(at(temporary));
    } catch {
      // Never created, or already renamed.
    }
    throw error;
  } finally {
    closeSync(source);
  }
}

/** unshareFile, best effort: a workspace in a state the server cannot fix still gets its exec, its names bound read-only. */
function tryUnshareFile(dir: number, name: string, stats: Stats): void {
  try {
    unshareFile(dir, name, stats);
  } catch {
    // Left as it is; the exec goes on.
  }
}

/** The files of a protected directory (one level, as git reads hooks) get no other hard links either. */
function unshareFilesIn(dir: number): void {
  let names: string[];
  try {
    names = readdirSync(`/proc/self/fd/${dir}`);
  } catch {
    return;
  }
  for (const name of names) {
    const stats = lstatSync(`/proc/self/fd/${dir}/${name}`, { throwIfNoEntry: false });
    if (stats?.isFile() && stats.nlink > 1) tryUnshareFile(dir, name, stats);
  }
}
