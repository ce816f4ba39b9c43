import { realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { UsageError, quote } from "../cli/usage-error.ts";
import { isInside } from "../workspace/confine.ts";

/** An `--allow-read`/`--allow-write`/`--deny-read` path: an existing absolute host path, as its real path. */
export function checkAllowedPath(label: string, path: string): string {
  if (!path.startsWith("/")) throw new UsageError(`${label}: ${quote(path)} must be an absolute path`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new UsageError(`${label}: ${quote(path)} does not exist`);
  }
  if (real === "/") throw new UsageError(`${label}: ${quote(path)} is the whole filesystem`);
  return real;
}

/**
 * Why an `--allow-read`/`--allow-write` path would undo the isolation between sessions, or
 * undefined when it does not. Such a bind comes after the workspace's, so a folder that holds the
 * workspace root (a non-root server's default root is ~/.bunker/workspaces: `--allow-write $HOME`)
 * showed every session's workspace to every command, writable (found by an audit). Writable, a
 * folder that holds the temporary directory would also hold the runtime directory of the reaper
 * that every session's commands start through (writable there by a server that runs commands as
 * itself). Both paths are real ones (the settings resolve allowed paths; ensureWorkspaceRoot the root).
 */
export function allowedPathProblem(path: string, writable: boolean, workspaceRoot: string, temporaryDir = tmpdir()): string | undefined {
  if (isInside(path, workspaceRoot) || isInside(workspaceRoot, path)) return `it overlaps the workspace root ${workspaceRoot}: every session's workspace would be open to every command`;
  if (writable) {
    const temporary = realpathSync(temporaryDir);
    if (isInside(path, temporary)) return `it holds ${temporary}, where the server keeps what every session's commands start through`;
  }
  return undefined;
}
