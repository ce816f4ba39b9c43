import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";
import type { RunAs } from "./run-as.ts";
import type { DeniedPath } from "./types.ts";

/**
 * The denied paths commands could reach, the ones worth hiding. bwrap mounts over a path as the
 * commands' user, and cannot where that user may not pass a directory on the way (a root server's
 * /etc/bunker, mode 0700, holding its config file): every exec would fail there. Commands cannot
 * reach such a path either, so it needs no hiding.
 */
export function hideablePaths(denied: readonly DeniedPath[], runAs: RunAs | undefined): DeniedPath[] {
  return denied.filter(({ path }) => canPassTo(dirname(path), runAs));
}

/** Whether the commands' user may search every directory from / down to `directory`. */
function canPassTo(directory: string, runAs: RunAs | undefined): boolean {
  try {
    // Commands run as the server's own user: access() answers for it, for every directory on the way.
    if (!runAs) {
      accessSync(directory, constants.X_OK);
      return true;
    }
    // A root server running commands as another user: the owner, group or other bits that user gets.
    for (let current = directory; ; current = dirname(current)) {
      const { uid, gid, mode } = statSync(current);
      const bits = runAs.uid === 0 ? 0o1 : uid === runAs.uid ? mode >> 6 : gid === runAs.gid ? mode >> 3 : mode;
      if ((bits & 0o1) === 0) return false;
      if (current === "/") return true;
    }
  } catch {
    return false;
  }
}
