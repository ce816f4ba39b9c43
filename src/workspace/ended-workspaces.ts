import { lstatSync } from "node:fs";
import { join } from "node:path";
import { readdirNames } from "../files/fs-calls.ts";
import { ENDED_WORKSPACE_PREFIX } from "./create.ts";
import { removeWorkspaceTree } from "./remove-workspace.ts";
import { isStaleSpare, SPARE_WORKSPACE_PREFIX } from "./spare-workspace.ts";

/**
 * Workspaces that ending sessions set aside (`.ended-…`, see create.ts) and that a server killed
 * meanwhile did not get to delete: the next server on the root deletes them, and the spares of
 * servers no longer running (`.spare-<pid>-…`, spare-workspace.ts). Nothing else in the
 * root is touched: not the workspaces a killed server left under their own names (from another
 * host sharing the root, they may be a live server's; a review found a first version that swept
 * them doing just that), not anything that is not bunker's.
 */

function isDirectory(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * Deletes the set-aside workspaces in `root`; resolves with how many went and the first failure, if
 * any. Asynchronous: a large tree left behind must not stall the first connections (a review).
 */
export async function removeEndedWorkspaces(root: string): Promise<{ removed: number; failure?: string }> {
  let removed = 0;
  let failure: string | undefined;
  let names: string[];
  try {
    names = await readdirNames(root);
  } catch (error) {
    return { removed: 0, failure: (error as Error).message };
  }
  for (const name of names) {
    // A killed server's spare (spare-workspace.ts) goes too, uncounted: no session's work was in it.
    if (name.startsWith(SPARE_WORKSPACE_PREFIX) && isStaleSpare(name) && isDirectory(join(root, name))) {
      await removeWorkspaceTree(join(root, name)).catch(() => {});
      continue;
    }
    if (!name.startsWith(ENDED_WORKSPACE_PREFIX) || !isDirectory(join(root, name))) continue;
    try {
      // Not node:fs/promises' rm: its time grows with the square of the depth (removeWorkspaceTree).
      await removeWorkspaceTree(join(root, name));
      removed++;
    } catch (error) {
      failure ??= (error as Error).message;
    }
  }
  return failure === undefined ? { removed } : { removed, failure };
}
