import { realpathSync } from "node:fs";
import { tmpdir } from "node:os";

/** Whether `path` is `other`, lies inside it, or holds it (both real, absolute paths). */
function overlaps(path: string, other: string): boolean {
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(outer.endsWith("/") ? outer : `${outer}/`);
  return within(path, other) || within(other, path);
}

/**
 * Why an `--allow-read`/`--allow-write` path would undo the isolation between sessions, or
 * undefined when it does not. Such a bind comes after the workspace's, so a folder that holds the
 * workspace root (a non-root server's default root is ~/.bunker/workspaces: `--allow-write $HOME`)
 * showed every session's workspace to every command, writable (found by an audit). Writable, a
 * folder that holds the temporary directory would also hold the runtime directory of the reaper
 * that every session's commands start through (writable there by a server that runs commands as
 * itself).
 */
export function allowedPathProblem(path: string, writable: boolean, workspaceRoot: string, temporaryDir = tmpdir()): string | undefined {
  const root = realpathSync(workspaceRoot);
  if (overlaps(path, root)) return `it overlaps the workspace root ${root}: every session's workspace would be open to every command`;
  if (writable) {
    const temporary = realpathSync(temporaryDir);
    if (temporary === path || temporary.startsWith(`${path}/`)) return `it holds ${temporary}, where the server keeps what every session's commands start through`;
  }
  return undefined;
}
