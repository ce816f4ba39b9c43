import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync } from "node:fs";
import type { SandboxBackendName } from "../protocol/index.ts";
import { O_PATH } from "../files/platform/linux-proc-fd.ts";
import { protectedGitDirectories, protectedPathComponents } from "./protected-path-components.ts";

/** Paths inside every workspace that commands see read-only when they exist: host tools run them. */
export const DEFAULT_PROTECTED_PATHS = [".git/hooks", ".git/config"] as const;

/**
 * Files of each linked worktree in a protected git directory (`.git/worktrees/<name>/`), read-only
 * when they exist: git run in that worktree (elsewhere on the host) takes the repository from
 * `commondir` (a redirect, as `.git/commondir` is, see git-redirects.ts) and, with
 * `extensions.worktreeConfig`, config from `config.worktree`; `git worktree repair` in the main
 * worktree writes a `.git` file at the path `gitdir` names, and `git worktree prune` (run by
 * `git gc`) drops a worktree whose `gitdir` leads nowhere.
 */
const WORKTREE_REDIRECT_NAMES = ["commondir", "gitdir", "config.worktree"] as const;

/** The most entries of a protected directory that are looked at for hard links; a directory with more is refused. */
const MAX_CHECKED_ENTRIES = 1000;

/**
 * A protected path that cannot be protected as it is: a file with other hard links (a read-only
 * bind of one name leaves the others writable). The exec is refused with this message.
 */
export class UnprotectablePathError extends Error {
  override readonly name = "UnprotectablePathError";
}

/**
 * A protected path opened by the server: the fd pins what bwrap binds at `path`, read-only; or,
 * with `pinned`, a directory on the way to one (`.git` for `.git/hooks`), bound writable onto
 * itself so that it is a mount point, which a command cannot rename or remove.
 */
export interface OpenedProtectedPath {
  /** Absolute path inside the workspace (the bind's destination). */
  path: string;
  fd: number;
  /** A directory on the way to a protected path, writable: bound only to be a mount point. */
  pinned?: true;
}

/**
 * The walk opens with O_PATH. Opening for reading asked for read permission, which the commands of
 * a server that is not root (its own uid) can take away: `chmod 311 .git` in one exec made the next
 * one's open fail with EACCES, nothing was bound, and that exec gave `.git` its mode back and wrote
 * `.git/config` (found by a review). An O_PATH fd needs search permission on the way only, and
 * bwrap binds it, fstat reads it, as before.
 */
const WALK_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const LEAF_FLAGS = O_PATH | constants.O_NOFOLLOW | constants.O_NONBLOCK;

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
 *
 * A file with other hard links, the path itself or a file directly inside a protected directory,
 * throws UnprotectablePathError: the exec that created `.git` could have linked `.git/config` to
 * `cfg` and rewritten it through `cfg` in every later exec. Copying the file apart was tried and
 * dropped: a sparse 1 GiB file costs nothing to link and a real gigabyte to copy, on the event loop.
 *
 * The directories on the way to a protected path that exists (`.git`) come first, `pinned`, each
 * once, the outermost first: a bind onto itself makes each a mount point in the sandbox, which
 * `rename` and `rmdir` refuse (EBUSY), so that a command cannot move `.git` away and put a `.git`
 * with hooks of its own in its place. Writable, so that git keeps working inside.
 *
 * A git directory on the way that is a regular file (`.git` of a linked worktree or of a
 * `--separate-git-dir` checkout: `gitdir: <path>`) is itself bound read-only: a command that wrote
 * `gitdir: ./evil` would have git on the host take `evil/config`. And in one that is a directory,
 * the WORKTREE_REDIRECT_NAMES of each linked worktree are protected paths too.
 */
export function openProtectedPaths(workspace: string, relativePaths: readonly string[]): OpenedProtectedPath[] {
  const opened: OpenedProtectedPath[] = [];
  const pinned: OpenedProtectedPath[] = [];
  const pinnedPaths = new Set<string>();
  // The defaults share their first component (.git): look each one up once.
  const present = new Map<string, boolean>();
  let root: number | undefined;
  /** The workspace, opened on first need, when a path starting with `first` may exist; else undefined. */
  const rootFor = (first: string): number | undefined => {
    let exists = present.get(first);
    if (exists === undefined) {
      exists = lstatSync(`${workspace}/${first}`, { throwIfNoEntry: false }) !== undefined;
      present.set(first, exists);
    }
    if (!exists) return undefined;
    if (root === undefined) {
      try {
        root = openSync(workspace, WALK_FLAGS);
      } catch {
        present.set(first, false);
        return undefined;
      }
    }
    return root;
  };
  const protect = (rootFd: number, components: readonly string[]) => {
    const leaf = openBeneath(rootFd, components, "protected");
    if (leaf === undefined) return;
    opened.push({ path: `${workspace}/${components.join("/")}`, fd: leaf });
    for (let depth = 1; depth < components.length; depth++) {
      const path = `${workspace}/${components.slice(0, depth).join("/")}`;
      if (pinnedPaths.has(path)) continue;
      const directory = openBeneath(rootFd, components.slice(0, depth), "directory");
      if (directory === undefined) continue;
      pinnedPaths.add(path);
      pinned.push({ path, fd: directory, pinned: true });
    }
  };
  try {
    for (const relative of relativePaths) {
      const components = protectedPathComponents(relative);
      if (components.length === 0 || components.includes("..")) continue;
      const rootFd = rootFor(components[0]!);
      if (rootFd !== undefined) protect(rootFd, components);
    }
    for (const gitDirectory of protectedGitDirectories(relativePaths)) {
      const rootFd = rootFor(gitDirectory[0]!);
      if (rootFd === undefined) continue;
      const path = `${workspace}/${gitDirectory.join("/")}`;
      // A pinned .git is a directory: no need to look for a file there.
      const gitFile = pinnedPaths.has(path) ? undefined : openBeneath(rootFd, gitDirectory, "file");
      if (gitFile !== undefined) {
        opened.push({ path, fd: gitFile });
        continue;
      }
      for (const name of linkedWorktreeNames(rootFd, gitDirectory)) {
        for (const file of WORKTREE_REDIRECT_NAMES) protect(rootFd, [...gitDirectory, "worktrees", name, file]);
      }
    }
  } catch (error) {
    for (const { fd } of [...pinned, ...opened]) closeSync(fd);
    throw error;
  } finally {
    if (root !== undefined) closeSync(root);
  }
  // Outermost first: a bind inside a directory must come after the directory's own.
  pinned.sort((a, b) => a.path.length - b.path.length);
  return [...pinned, ...opened];
}

/** The names under `<git directory>/worktrees` (a real directory beneath the root), or none. */
function linkedWorktreeNames(root: number, gitDirectory: readonly string[]): string[] {
  const dir = openBeneath(root, [...gitDirectory, "worktrees"], "directory");
  if (dir === undefined) return [];
  try {
    const names = readdirSync(`/proc/self/fd/${dir}`);
    if (names.length > MAX_CHECKED_ENTRIES) {
      throw new UnprotectablePathError(
        `${[...gitDirectory, "worktrees"].join("/")} holds ${names.length} entries, more than the ${MAX_CHECKED_ENTRIES} linked worktrees whose files are protected before each exec`,
      );
    }
    return names;
  } finally {
    closeSync(dir);
  }
}

/** Opens directory `components` under `workspace`, no component followed if a symlink; undefined if it is not one. */
export function openDirectoryBeneath(workspace: string, components: readonly string[]): number | undefined {
  let root: number;
  try {
    root = openSync(workspace, WALK_FLAGS);
  } catch {
    return undefined;
  }
  try {
    return openBeneath(root, components, "directory");
  } finally {
    closeSync(root);
  }
}

/**
 * Opens `components` under the directory `root` without following symlinks, or undefined: as
 * `kind` says, a directory or a regular file that is protected itself (which is refused when it, or
 * a file directly inside it, has other hard links), a directory only (pinned directories are
 * writable anyway, and a walk goes through them), or a regular file only (protected, checked alike).
 */
function openBeneath(root: number, components: readonly string[], kind: "protected" | "directory" | "file"): number | undefined {
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
      // Until `dir = root` below, the finally closes the leaf (dir is next) on every way out.
      if (!stats.isDirectory() && !stats.isFile()) return undefined;
      if (kind === "directory" && !stats.isDirectory()) return undefined;
      if (kind === "file" && !stats.isFile()) return undefined;
      if (stats.isFile()) refuseLinked(stats.nlink, components.join("/"));
      else if (kind === "protected") refuseLinkedEntries(next, components.join("/"));
      dir = root;
      return next;
    }
    return undefined;
  } finally {
    if (dir !== root) closeSync(dir);
  }
}

function refuseLinked(links: number, path: string): void {
  if (links > 1) {
    throw new UnprotectablePathError(
      `${path} has ${links} hard links: its other names would stay writable, so it cannot be protected; remove them, or replace ${path} with a copy (file.read and file.write)`,
    );
  }
}

/** Refuses a protected directory that holds a file with other hard links (one level, as git reads hooks). */
function refuseLinkedEntries(dir: number, path: string): void {
  const names = readdirSync(`/proc/self/fd/${dir}`);
  if (names.length > MAX_CHECKED_ENTRIES) {
    throw new UnprotectablePathError(`${path} holds ${names.length} entries, more than the ${MAX_CHECKED_ENTRIES} that are checked for hard links before each exec`);
  }
  for (const name of names) {
    const stats = lstatSync(`/proc/self/fd/${dir}/${name}`, { throwIfNoEntry: false });
    if (stats?.isFile()) refuseLinked(stats.nlink, `${path}/${name}`);
  }
}

/**
 * The protected paths an exec of `backend` binds: opened under bwrap, none elsewhere (seatbelt
 * protects by rules, the fallback not at all). The refusal comes back as a problem to send; any
 * other failure is thrown.
 */
export function openProtectedPathsForExec(
  backend: SandboxBackendName,
  workspace: string,
  relativePaths: readonly string[],
): { ok: true; opened: OpenedProtectedPath[] } | { ok: false; problem: string } {
  if (backend !== "bwrap") return { ok: true, opened: [] };
  try {
    return { ok: true, opened: openProtectedPaths(workspace, relativePaths) };
  } catch (error) {
    if (error instanceof UnprotectablePathError) return { ok: false, problem: error.message };
    throw error;
  }
}
