import { accessSync, constants, statSync } from "node:fs";

/** Whether a host path is also visible at the same place inside the sandbox. */
export type VisibleInSandbox = (hostPath: string) => boolean;

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a bare program name on the command's PATH, the way execvp would inside the sandbox. The
 * reaper execs exactly the path it is given, so the lookup happens here, against the host paths
 * that the sandbox shows unchanged (system directories, the workspace). A name with a slash, or one
 * not found, is returned as it is: the command then fails with a clear ENOENT.
 */
export function resolveProgram(name: string, pathEnv: string | undefined, cwd: string, visible: VisibleInSandbox): string {
  if (name.includes("/") || name === "") return name;
  for (const entry of (pathEnv ?? "").split(":")) {
    const dir = entry === "" ? cwd : entry.startsWith("/") ? entry : `${cwd}/${entry}`;
    const candidate = `${dir}/${name}`;
    if (visible(candidate) && isExecutableFile(candidate)) return candidate;
  }
  return name;
}

/** Visibility for bwrap: under one of the mounted system paths or the workspace. */
export function createVisibility(roots: readonly string[]): VisibleInSandbox {
  return (hostPath) => roots.some((root) => hostPath === root || hostPath.startsWith(`${root}/`));
}
