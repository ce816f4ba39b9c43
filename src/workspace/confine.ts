import { isAbsolute, relative, resolve } from "node:path";
import { MAX_SYMLINKS } from "../files/walk.ts";
import { MAX_NAME_BYTES } from "../files/workspace-path.ts";
import { findDirectoryBeneath } from "./directory-beneath.ts";

/** A path inside the workspace, or why it is refused. */
export type ConfinedPath =
  | { ok: true; path: string }
  | { ok: false; code: "path_outside_workspace" | "not_found" | "not_directory" | "limit_exceeded" | "bad_message"; problem: string };


/** Whether `path` is `root` or lies under it (both absolute, without `..`). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);
}

/**
 * Resolves a client's `cwd` against the workspace (a real path): relative to it, or absolute inside
 * it. `..` cannot leave, and neither can a symlink: the walk (findDirectoryBeneath) never follows one
 * out of the workspace, so every cwd that leads out gets the same answer whether its target exists
 * on the host or not. The directory must exist and be a directory, since the sandbox changes into
 * it before the command starts.
 */
export function resolveCwd(workspace: string, cwd: string | undefined): ConfinedPath {
  if (cwd === undefined || cwd === "" || cwd === ".") return { ok: true, path: workspace };
  const lexical = isAbsolute(cwd) ? resolve(cwd) : resolve(workspace, cwd);
  if (!isInside(workspace, lexical)) {
    return { ok: false, code: "path_outside_workspace", problem: `cwd: ${JSON.stringify(cwd)} is outside the workspace` };
  }
  const components = relative(workspace, lexical).split("/").filter((name) => name !== "");
  // Refused as the file API refuses the same path: such a name exists nowhere, which not_found said.
  const long = components.find((name) => Buffer.byteLength(name) > MAX_NAME_BYTES);
  if (long !== undefined) return { ok: false, code: "bad_message", problem: `cwd: the component ${JSON.stringify(long.slice(0, 32))}... is longer than ${MAX_NAME_BYTES} bytes` };
  // Checked here rather than left to the sandbox, whose "Can't chdir" would read as the command's own exit 1.
  const found = findDirectoryBeneath(workspace, components);
  if (found.ok) return { ok: true, path: [workspace, ...found.components].join("/") };
  switch (found.reason) {
    case "outside":
      return { ok: false, code: "path_outside_workspace", problem: `cwd: ${JSON.stringify(cwd)} leads outside the workspace through a symlink` };
    case "missing":
      return { ok: false, code: "not_found", problem: `cwd: ${JSON.stringify(cwd)} does not exist in the workspace` };
    case "not_directory":
      return { ok: false, code: "not_directory", problem: `cwd: ${JSON.stringify(cwd)} is not a directory` };
    case "too_many_links":
      // A loop of symlinks: the file API's words for the same path (it said "does not exist").
      return { ok: false, code: "limit_exceeded", problem: `cwd: ${JSON.stringify(cwd)} goes through more than ${MAX_SYMLINKS} symlinks` };
    default: {
      const unreachable: never = found.reason;
      return unreachable;
    }
  }
}
