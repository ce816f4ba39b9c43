import { mkdirSync, chmodSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { workspaceNameFor } from "./naming.ts";

/** Creates the workspace root (mode 0700 when new) and returns its real path. */
export function ensureWorkspaceRoot(root: string): string {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  return realpathSync(root);
}

/** A session's workspace on disk. */
export interface Workspace {
  /** Absolute, symlink-free host path. */
  path: string;
  remove(): void;
}

/** Creates the workspace of a session under the root, mode 0700. The root must be a real path. */
export function createWorkspace(root: string, sessionId: string): Workspace {
  const path = join(root, workspaceNameFor(sessionId));
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
