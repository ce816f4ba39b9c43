import { realpathSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

/** A path inside the workspace, or why it is refused. */
export type ConfinedPath = { ok: true; path: string } | { ok: false; code: "path_outside_workspace" | "not_found" | "not_directory"; problem: string };

/** Whether `path` is `root` or lies under it (both absolute, without `..`). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);
}

/**
 * Resolves a client's `cwd` against the workspace: relative to it, or absolute inside it. `..`
 * cannot leave, and neither can a symlink (the real path must stay inside too). The directory must
 * exist and be a directory, since the sandbox changes into it before the command starts.
 */
export function resolveCwd(workspace: string, cwd: string | undefined): ConfinedPath {
  if (cwd === undefined || cwd === "" || cwd === ".") return { ok: true, path: workspace };
  const lexical = isAbsolute(cwd) ? resolve(cwd) : resolve(workspace, cwd);
  if (!isInside(workspace, lexical)) {
    return { ok: false, code: "path_outside_workspace", problem: `cwd: ${JSON.stringify(cwd)} is outside the workspace` };
  }
  let real: string;
  try {
    real = realpathSync(lexical);
  } catch {
    return { ok: false, code: "not_found", problem: `cwd: ${JSON.stringify(cwd)} does not exist in the workspace` };
  }
  if (!isInside(workspace, real)) {
    return { ok: false, code: "path_outside_workspace", problem: `cwd: ${JSON.stringify(cwd)} leads outside the workspace through a symlink` };
  }
  // Checked here rather than left to the sandbox, whose "Can't chdir" would read as the command's own exit 1.
  let stats;
  try {
    stats = statSync(real);
  } catch {
    // Gone, or a command swapped a component since the realpath (ENOTDIR, ELOOP): as good as gone.
    return { ok: false, code: "not_found", problem: `cwd: ${JSON.stringify(cwd)} does not exist in the workspace` };
  }
  if (!stats.isDirectory()) {
    return { ok: false, code: "not_directory", problem: `cwd: ${JSON.stringify(cwd)} is not a directory` };
  }
  return { ok: true, path: real };
}
