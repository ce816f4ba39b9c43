import { realpathSync, statSync } from "node:fs";
import { UsageError, quote } from "../cli/usage-error.ts";
import { isInside } from "../workspace/confine.ts";
import { checkAllowedPath } from "./allowed-paths.ts";
import type { DeniedPath } from "../sandbox/types.ts";

/** A `--deny-read` path: an existing absolute host path, as its real path, and whether it is a directory. */
export function checkDeniedPath(label: string, path: string): DeniedPath {
  const real = checkAllowedPath(label, path);
  return { path: real, directory: statSync(real).isDirectory() };
}

/**
 * `denied` and the server's own secret files (the config file, which may hold the token; the TLS
 * private key), each once, by real path. A server that is not root runs commands as its own uid,
 * which may read those files: under a bound directory such as /etc they were readable to every
 * command (found by an audit). A file that cannot be resolved is left out: the server reads it
 * at startup, so one that is gone is not there for commands either.
 */
export function withSecretFiles(denied: readonly DeniedPath[], ...secretFiles: (string | undefined)[]): DeniedPath[] {
  const all = [...denied];
  for (const file of secretFiles) {
    if (file === undefined) continue;
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      continue;
    }
    if (!all.some((entry) => entry.path === real)) all.push({ path: real, directory: false });
  }
  return all;
}

/**
 * Refuses a hidden path inside an `--allow-write` path. Hiding goes by path, and commands may rename
 * any directory in a writable bind: bwrap's mount follows the renamed directory within that sandbox,
 * the next sandbox's mount lands on the old path (bwrap makes it anew) and the secret is readable at
 * the new one; seatbelt's path rules are undone the same way (found by a review). The writable path
 * itself may be hidden: its bind is a mount point, which commands cannot rename.
 */
export function checkDeniedPathsOutsideWritable(denied: readonly DeniedPath[], allowWrite: readonly string[]): void {
  for (const { path } of denied) {
    const writable = allowWrite.find((candidate) => candidate !== path && isInside(candidate, path));
    if (writable !== undefined) {
      throw new UsageError(`${quote(path)} cannot be hidden from commands: it lies inside --allow-write ${quote(writable)}, where a command can move it from under what hides it`);
    }
  }
}
