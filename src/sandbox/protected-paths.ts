import { closeSync, constants, fstatSync, openSync } from "node:fs";

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
 */
export function openProtectedPaths(workspace: string, relativePaths: readonly string[]): OpenedProtectedPath[] {
  const opened: OpenedProtectedPath[] = [];
  for (const relative of relativePaths) {
    const components = relative.split("/").filter((part) => part.length > 0 && part !== ".");
    if (components.length === 0 || components.includes("..")) continue;
    let dir: number;
    try {
      dir = openSync(workspace, WALK_FLAGS);
    } catch {
      continue;
    }
    try {
      for (const [index, name] of components.entries()) {
        const last = index === components.length - 1;
        let next: number;
        try {
          next = openSync(`/proc/self/fd/${dir}/${name}`, last ? LEAF_FLAGS : WALK_FLAGS);
        } catch {
          break;
        }
        closeSync(dir);
        dir = next;
        if (!last) continue;
        const stats = fstatSync(next);
        if (stats.isDirectory() || stats.isFile()) {
          opened.push({ path: `${workspace}/${components.join("/")}`, fd: next });
          dir = -1;
        }
      }
    } finally {
      if (dir >= 0) closeSync(dir);
    }
  }
  return opened;
}
