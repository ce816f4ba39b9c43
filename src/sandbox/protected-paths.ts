import { closeSync, constants, fstatSync, lstatSync, openSync } from "node:fs";

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
function openBeneath(root: number, components: string[]): number | undefined {
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
      if (dir !== root) closeSync(dir);
      dir = next;
      if (!last) continue;
      const stats = fstatSync(next);
      if (!stats.isDirectory() && !stats.isFile()) return undefined;
      dir = root;
      return next;
    }
    return undefined;
  } finally {
    if (dir !== root) closeSync(dir);
  }
}
