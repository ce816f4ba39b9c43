import { FileError } from "./file-error.ts";
import type { FileScope } from "./file-scope.ts";
import type { Walked } from "./walk.ts";
import { formatComponents } from "./workspace-path.ts";

/**
 * Refuses a change that a symlink steered into a protected path (`.git/config`, `.git/hooks`, the
 * server's --protect paths). Commands cannot write those, but they can make links to them: a link
 * `notes.txt -> .git/config`, or a directory link `docs -> .git/hooks`, would have a client's
 * file.write, upload or move land there, and git on the host runs what such a config or hook says
 * (found by a security review). A client that names a protected path itself is its owner, and is
 * let through.
 */
export function assertNotLinkedIntoProtected(scope: FileScope, walked: Walked, label: string): void {
  if (!walked.throughLink) return;
  const target = walked.components;
  const hit = scope.protectedPaths.find((path) => path.length > 0 && path.length <= target.length && path.every((part, index) => target[index] === part));
  if (!hit) return;
  throw new FileError(
    "forbidden_by_policy",
    `${label} leads through a symlink to ${formatComponents(target)}, inside the protected path ${formatComponents(hit)}: a command may have made that link; name the protected path itself to change it`,
  );
}
