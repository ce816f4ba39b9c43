import { FileError } from "./file-error.ts";
import type { FileScope } from "./file-scope.ts";
import type { Walked } from "./walk.ts";
import { formatComponents, type Components } from "./workspace-path.ts";

/**
 * Refuses a change that a symlink steered at a protected path (`.git/config`, `.git/hooks`, the
 * server's --protect paths), inside one, or at a directory that holds one (`.git`). Commands cannot
 * write those, but they can make links to them: a link `notes.txt -> .git/config`, or a directory
 * link `docs -> .git/hooks`, would have a client's file.write, upload or move land there, and git on
 * the host runs what such a config or hook says (found by a security review). Removing or moving
 * one away through a link (`gitdir -> .git`, then `gitdir/config`) is refused too: a protected path
 * that does not exist is not protected, so the next command could write a config of its own there
 * (found by a review). Every change checks the walk that leads to what it changes: append checks
 * the walk it opens the file by, not an earlier one a command could have raced. A client that names
 * a protected path itself is its owner, and is let through.
 */
export function assertNotLinkedIntoProtected(scope: FileScope, walked: Walked, label: string): void {
  if (!walked.throughLink) return;
  const target = walked.components;
  if (target.length === 0) return;
  const hit = scope.protectedPaths.find((path) => path.length > 0 && (startsWith(target, path) || startsWith(path, target)));
  if (!hit) return;
  const where = hit.length <= target.length ? `inside the protected path ${formatComponents(hit)}` : `which holds the protected path ${formatComponents(hit)}`;
  throw new FileError(
    "forbidden_by_policy",
    `${label} leads through a symlink to ${formatComponents(target)}, ${where}: a command may have made that link; name the protected path itself to change it`,
  );
}

function startsWith(path: Components, prefix: Components): boolean {
  return prefix.length <= path.length && prefix.every((part, index) => path[index] === part);
}
