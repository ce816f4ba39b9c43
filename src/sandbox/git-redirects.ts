import { closeSync, lstatSync, unlinkSync } from "node:fs";
import { protectedGitDirectories } from "./protected-path-components.ts";
import { openDirectoryBeneath } from "./protected-paths.ts";

/**
 * Names in a git directory that make git read its config, hooks and objects from another directory:
 * `commondir` (git's own for linked worktrees, never in a repository's main `.git`). A command that
 * writes `.git/commondir` containing `../elsewhere`, a directory of its own with a `config` that
 * sets `core.fsmonitor` or `core.hooksPath`, walks around the read-only `.git/config` and
 * `.git/hooks`: git on the host runs the command's program at the next `git status` (found by a
 * review, tried with git 2.39). Such a name cannot be bound read-only while it does not exist (the
 * mount point would be a file on the host, which breaks git), so the server removes it instead.
 */
const GIT_REDIRECT_NAMES = ["commondir"] as const;

/**
 * Removes every GIT_REDIRECT_NAMES entry (a file or a symlink; a directory there only makes git
 * fail) from the protected git directories of `workspace` that exist as real directories, walked
 * without following a symlink. Returns what it removed, relative to the workspace. Cheap where
 * there is no repository: one lstat that finds nothing. Linux only, as protected paths are.
 */
export function removeGitRedirects(workspace: string, protectedPaths: readonly string[]): string[] {
  const removed: string[] = [];
  for (const components of protectedGitDirectories(protectedPaths)) {
    if (lstatSync(`${workspace}/${components[0]}`, { throwIfNoEntry: false }) === undefined) continue;
    const dir = openDirectoryBeneath(workspace, components);
    if (dir === undefined) continue;
    try {
      for (const name of GIT_REDIRECT_NAMES) {
        const path = `/proc/self/fd/${dir}/${name}`;
        const stats = lstatSync(path, { throwIfNoEntry: false });
        if (stats === undefined || stats.isDirectory()) continue;
        try {
          unlinkSync(path);
          removed.push([...components, name].join("/"));
        } catch {
          // Gone meanwhile.
        }
      }
    } finally {
      closeSync(dir);
    }
  }
  return removed;
}
