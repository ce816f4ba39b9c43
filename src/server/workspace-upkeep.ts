import { removeGitRedirects } from "../sandbox/git-redirects.ts";
import type { Workspace } from "../workspace/create.ts";
import type { ServerOptions } from "./options.ts";

/**
 * Removes what a command may have put in a protected repository's `.git` to make git on the host
 * read config and hooks of its own (git-redirects.ts): a session calls this before each exec and
 * after each one ends (a persistent shell's commands included), so that only while a command runs
 * can one be there. Under bwrap, where protected paths are enforced.
 */
export function sweepGitRedirects(options: ServerOptions, sessionId: string, workspacePath: string): void {
  if (options.sandbox.backend.name !== "bwrap") return;
  let removed: string[];
  try {
    removed = removeGitRedirects(workspacePath, options.protectPaths);
  } catch {
    // Unreadable (a server that is not root, a directory a command locked): nothing to remove here.
    return;
  }
  for (const path of removed) {
    options.logger.warn(
      "sandbox.git_redirect_removed",
      { session: sessionId, path },
      `bunker: removed ${path} from the workspace of session ${sessionId}: it would make git on the host read the config and hooks of another directory`,
    );
  }
}

/**
 * Removes an ended session's workspace. One that cannot be removed (a read-only or busy mount in
 * it; as a non-root server, a directory a command made read-only) stays on disk, said in the log:
 * it threw out of a close that nothing awaited, and the unhandled rejection ended the server
 * (found by a crash hunt).
 */
export async function removeSessionWorkspace(options: ServerOptions, sessionId: string, workspace: Workspace): Promise<void> {
  try {
    await workspace.remove();
  } catch (error) {
    // The error names the path that could not go (set aside, it is not workspace.path).
    const reason = (error as Error).message;
    options.logger.warn(
      "workspace.remove_failed",
      { session: sessionId, workspace: workspace.path, error: reason },
      `bunker: the workspace of session ${sessionId} could not be removed (${reason}); what is left of it stays on disk`,
    );
  }
}
