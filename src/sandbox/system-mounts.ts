import { lstatSync, readlinkSync } from "node:fs";

/** How one system directory appears inside the bwrap sandbox. */
export type SystemMount = { kind: "ro-bind"; path: string } | { kind: "symlink"; path: string; target: string };

/** The host directories commands may read. Nothing else of the host is mounted. */
export const SYSTEM_DIRECTORIES = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"] as const;

/**
 * Reads how the host lays out its system directories: on merged-/usr systems /bin is a symlink
 * to usr/bin, and binding it as a directory would hide that. Missing ones are left out.
 */
export function readSystemMounts(directories: readonly string[] = SYSTEM_DIRECTORIES): SystemMount[] {
  const mounts: SystemMount[] = [];
  for (const path of directories) {
    let isLink: boolean;
    try {
      isLink = lstatSync(path).isSymbolicLink();
    } catch {
      continue;
    }
    mounts.push(isLink ? { kind: "symlink", path, target: readlinkSync(path) } : { kind: "ro-bind", path });
  }
  return mounts;
}
