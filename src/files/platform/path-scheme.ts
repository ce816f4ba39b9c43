/** A directory the walk holds open, and where it is in the workspace. */
export interface OpenDir {
  readonly fd: number;
  /** Its components below the workspace ([] for the workspace itself). */
  readonly components: readonly string[];
  /** Its host path as the walk meant it: the workspace joined with the components. */
  readonly hostPath: string;
}

/**
 * How the walk names a directory it holds open, and an entry in it, in a path-based API (node:fs
 * has no openat). One implementation per platform, with the same contract: see linux-proc-fd.ts
 * and lexical.ts, and index.ts, the one place that picks.
 */
export interface PathScheme {
  readonly name: "proc-fd" | "lexical";
  /** Flags added to every open(2) of the walk. */
  readonly openFlags: number;
  /** A path naming the open directory itself (for readdir and watch). */
  dirPath(dir: OpenDir): string;
  /** A path naming entry `name` of the open directory, through which no swapped-in symlink can redirect. */
  entryPath(dir: OpenDir, name: string): string;
  /** After a directory was opened through entryPath: whether it is the directory the walk meant. */
  verifyDirectory(dir: OpenDir): Promise<boolean>;
}
