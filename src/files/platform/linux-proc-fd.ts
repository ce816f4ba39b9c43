import type { OpenDir, PathScheme } from "./path-scheme.ts";

/**
 * Linux: `/proc/self/fd/<fd>` is a magic link to the very directory the walk holds open, so
 * `/proc/self/fd/<fd>/<name>` resolves `name` in that directory whatever has been renamed or
 * swapped since it was opened: the effect of openat(2) through a path. The walk opens each
 * component with O_NOFOLLOW, so a symlink is never followed by the kernel, only by the walk's own
 * confined resolution.
 */
export const procFdScheme: PathScheme = {
  name: "proc-fd",
  openFlags: 0,
  dirPath: (dir: OpenDir) => `/proc/self/fd/${dir.fd}`,
  entryPath: (dir: OpenDir, name: string) => `/proc/self/fd/${dir.fd}/${name}`,
  verifyDirectory: async () => true,
};

/** Linux's O_PATH: node:fs does not export it, and it is the same on x86_64 and aarch64. */
export const O_PATH = 0o10000000;
