import { lstatSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { randomText } from "../common/random-text.ts";

/**
 * What a server that did not stop cleanly (killed, crashed, a machine that lost power) left in its
 * workspace root: workspaces of sessions that cannot be resumed (sessions never outlive their
 * server). Under `--workspace-retention delete` they are deleted by the next server on the root, as
 * they would have been at a clean stop; before, a named session created after a crash found the
 * files of the session of that name before it (found by a crash hunt).
 *
 * Only what bunker makes is touched: directories named as workspaces are (naming.ts: a readable
 * prefix, a dash, 16 hex digits) and workspaces already set aside (`.ended-…`, see create.ts), so a
 * root pointed at a directory with other things in it loses none of them.
 */
const WORKSPACE_NAME = /^[A-Za-z0-9_-]{1,32}-[0-9a-f]{16}$/;
const ENDED_PREFIX = ".ended-";

function isDirectory(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * Moves every workspace in `root` out of its name, at once and before the server listens, so that
 * no new session gets a left one's files; removeEndedWorkspaces deletes them later. Returns how many.
 */
export function setAsideLeftWorkspaces(root: string): number {
  let moved = 0;
  for (const name of readdirSync(root)) {
    if (!WORKSPACE_NAME.test(name) || !isDirectory(join(root, name))) continue;
    try {
      renameSync(join(root, name), join(root, `${ENDED_PREFIX}${name}-${randomText(6, "hex")}`));
      moved++;
    } catch {
      // Gone meanwhile, or not ours to move: left as it is.
    }
  }
  return moved;
}

/** Deletes the set-aside workspaces in `root`; returns how many went and the first failure, if any. */
export function removeEndedWorkspaces(root: string): { removed: number; failure?: string } {
  let removed = 0;
  let failure: string | undefined;
  for (const name of readdirSync(root)) {
    if (!name.startsWith(ENDED_PREFIX) || !isDirectory(join(root, name))) continue;
    try {
      rmSync(join(root, name), { recursive: true, force: true });
      removed++;
    } catch (error) {
      failure ??= (error as Error).message;
    }
  }
  return failure === undefined ? { removed } : { removed, failure };
}
