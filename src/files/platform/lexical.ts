import { fstatFd, lstatPath, realpathPath } from "../fs-calls.ts";
import type { OpenDir, PathScheme } from "./path-scheme.ts";

/** macOS 11+: open(2) fails with ELOOP when any component of the path is a symlink. */
const O_NOFOLLOW_ANY_DARWIN = 0x20000000;

/**
 * Everywhere without /proc (macOS): entries are named by their full host path. Each directory the
 * walk opens is checked afterwards (its real path is the path the walk meant, and it is the same
 * inode), and on macOS every open also refuses a symlink in any component (O_NOFOLLOW_ANY). What
 * stays weaker than proc-fd: path calls that are not opens (rename, unlink, mkdir, link, lstat)
 * resolve the whole path again, so a directory swapped for a symlink between the check and the
 * call redirects them. docs/PROTOCOL.md (Files) says so.
 */
export function createLexicalScheme(platform: NodeJS.Platform): PathScheme {
  return {
    name: "lexical",
    openFlags: platform === "darwin" ? O_NOFOLLOW_ANY_DARWIN : 0,
    dirPath: (dir: OpenDir) => dir.hostPath,
    entryPath: (dir: OpenDir, name: string) => `${dir.hostPath}/${name}`,
    async verifyDirectory(dir: OpenDir) {
      try {
        const [real, opened, named] = await Promise.all([realpathPath(dir.hostPath), fstatFd(dir.fd), lstatPath(dir.hostPath)]);
        return real === dir.hostPath && opened.dev === named.dev && opened.ino === named.ino;
      } catch {
        return false;
      }
    },
  };
}
