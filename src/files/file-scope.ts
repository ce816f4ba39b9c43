import { protectedGitDirectories, protectedPathComponents } from "../sandbox/protected-path-components.ts";
import { createConfinedRoot, type ConfinedRoot, type FileOwner } from "./confined-root.ts";
import { resolveFileLimits, type FileLimits } from "./limits.ts";
import type { PathScheme } from "./platform/index.ts";
import { endsAsDirectory, parseWorkspacePath, type ClientPath, type Components } from "./workspace-path.ts";

/** Everything a file operation acts within: the confined workspace, its quota, the limits. */
export interface FileScope {
  readonly root: ConfinedRoot;
  /** undefined: no quota. */
  readonly quotaBytes: number | undefined;
  readonly limits: FileLimits;
  /**
   * The protected paths (ServerOptions.protectPaths), as components, and `worktrees` of each git
   * directory among them, whose files are protected when they exist (protected-paths.ts): see
   * protected-target.ts.
   */
  readonly protectedPaths: readonly Components[];
}

/** What a FileScope is made from: the FileContext fields that concern files. */
export interface FileScopeOptions {
  readonly workspace: string;
  readonly owner: FileOwner | undefined;
  readonly quotaBytes: number | undefined;
  readonly limits?: Partial<FileLimits> | undefined;
  /** Paths relative to the workspace that commands may not change, such as `.git/config`. */
  readonly protectPaths?: readonly string[] | undefined;
  /** Only tests pick a scheme; everyone else gets the platform's. */
  readonly scheme?: PathScheme | undefined;
}

/** A scope with the platform's path scheme (unless a test picks one) and the limits resolved. */
export function createFileScope(options: FileScopeOptions): FileScope {
  return {
    root: createConfinedRoot(options.workspace, options.owner, options.scheme),
    quotaBytes: options.quotaBytes,
    limits: resolveFileLimits(options.limits),
    protectedPaths: [
      ...(options.protectPaths ?? []).map(protectedPathComponents),
      ...protectedGitDirectories(options.protectPaths ?? []).map((gitDirectory) => [...gitDirectory, "worktrees"]),
    ],
  };
}

/** A client's path parsed within the scope, with the label its messages use. */
export function clientPath(scope: FileScope, path: string, field = "path"): ClientPath {
  return {
    components: parseWorkspacePath(scope.root.workspace, path, field),
    label: `${field}: ${JSON.stringify(path)}`,
    directory: endsAsDirectory(path),
  };
}
