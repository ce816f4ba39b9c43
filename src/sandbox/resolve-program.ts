import { accessSync, constants, statSync } from "node:fs";

/** Whether a host path is also visible at the same place inside the sandbox. */
export type VisibleInSandbox = (hostPath: string) => boolean;

function isExecutableFile(path: string): boolean {
  try {
    // Most PATH entries miss: no exception for those (each cost tens of microseconds per exec).
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a bare program name on the command's PATH, the way execvp would inside the sandbox. The
 * reaper execs exactly the path it is given, so the lookup happens here, against the host paths
 * that the sandbox shows unchanged (system directories, the workspace). A name with a slash is
 * returned as it is; undefined when nothing on PATH matches. (Passing an unfound bare name on would
 * make execve run a file of that name in the cwd, which execvp never does.)
 */
export function resolveProgram(name: string, pathEnv: string | undefined, cwd: string, visible: VisibleInSandbox): string | undefined {
  if (name.includes("/")) return name;
  if (name === "") return undefined;
  for (const entry of (pathEnv ?? "").split(":")) {
    const dir = entry === "" ? cwd : entry.startsWith("/") ? entry : `${cwd}/${entry}`;
    const candidate = `${dir}/${name}`;
    if (visible(candidate) && isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** Visibility for bwrap: under one of the mounted system paths or the workspace. */
export function createVisibility(roots: readonly string[]): VisibleInSandbox {
  return (hostPath) => roots.some((root) => hostPath === root || hostPath.startsWith(`${root}/`));
}
