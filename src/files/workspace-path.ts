import { FileError } from "./file-error.ts";

/** A path inside the workspace as its components: [] is the workspace itself. */
export type Components = readonly string[];

/** A client's path as the file operations take it. */
export interface ClientPath {
  readonly components: Components;
  /** How messages name it, e.g. `path: "a/b"`. */
  readonly label: string;
  /** It ended in `/` (see endsAsDirectory), so it must lead to a directory. */
  readonly directory: boolean;
}

/** Longest name of one path component, in bytes (NAME_MAX on Linux and macOS). */
export const MAX_NAME_BYTES = 255;

/** Applies "/"-separated `path` to `base` lexically: "." is dropped and ".." pops; null if ".." leaves the top. */
function applyLexically(base: Components, path: string): string[] | null {
  const stack = [...base];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (stack.length === 0) return null;
      stack.pop();
      continue;
    }
    stack.push(part);
  }
  return stack;
}

function insideWorkspace(workspace: string, absolute: string): string | null {
  const normal = applyLexically([], absolute);
  const root = applyLexically([], workspace)!;
  if (normal === null || normal.length < root.length) return null;
  if (root.some((part, index) => normal[index] !== part)) return null;
  return normal.slice(root.length).join("/");
}

/**
 * Parses a client's path: relative to the workspace, or absolute inside it. `..` is applied
 * lexically, before any symlink, and cannot climb above the workspace. Throws `path_outside_workspace`.
 */
export function parseWorkspacePath(workspace: string, path: string, field = "path"): Components {
  const relative = path.startsWith("/") ? insideWorkspace(workspace, path) : path;
  const components = relative === null ? null : applyLexically([], relative);
  if (components === null) {
    throw new FileError("path_outside_workspace", `${field}: ${JSON.stringify(path)} is outside the workspace`);
  }
  for (const name of components) {
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
      throw new FileError("bad_message", `${field}: the component ${JSON.stringify(name.slice(0, 32))}... is longer than ${MAX_NAME_BYTES} bytes`);
    }
  }
  return components;
}

/**
 * Whether a client's path ends in `/` (or `/.`, `/..`): POSIX resolves such a path only to a
 * directory, and the components alone no longer show it (`a.txt/` and `a.txt` are both ["a.txt"]).
 */
export function endsAsDirectory(path: string): boolean {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return false;
  const last = path.slice(slash + 1);
  return last === "" || last === "." || last === "..";
}

/**
 * Where a symlink found in directory `dir` leads: its target resolved lexically against `dir`
 * (relative) or the workspace (absolute), or null when that is outside the workspace.
 */
export function resolveLinkTarget(workspace: string, dir: Components, target: string): Components | null {
  if (target.startsWith("/")) {
    const relative = insideWorkspace(workspace, target);
    return relative === null ? null : applyLexically([], relative);
  }
  return applyLexically(dir, target);
}

/** The wire form of a path: "/"-joined, "." for the workspace itself. */
export function formatComponents(components: Components): string {
  return components.length === 0 ? "." : components.join("/");
}
