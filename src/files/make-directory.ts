import type { FileEntry } from "../protocol/index.ts";
import { describeEntry } from "./describe-entry.ts";
import { FileError, toFileError } from "./file-error.ts";
import { lstatAt, mkdirAt } from "./confined-root.ts";
import type { FileScope } from "./file-scope.ts";
import { statPath } from "./inspect.ts";
import { walkPath } from "./walk.ts";
import { PARENT_DIRECTORY_MODE } from "./write-file.ts";
import type { Components } from "./workspace-path.ts";

/**
 * Creates a directory (owned by the root's owner, exactly `mode`). With `parents`, missing parents
 * are created too and an existing directory is fine (`created: false`), as `mkdir -p`.
 */
export async function makeDirectory(
  scope: FileScope,
  path: Components,
  label: string,
  options: { parents: boolean; mode: number | undefined },
): Promise<{ entry: FileEntry; created: boolean }> {
  const mode = options.mode ?? PARENT_DIRECTORY_MODE;
  const walked = await walkPath(scope.root, path, { label, followLast: false, parentsMode: options.parents ? PARENT_DIRECTORY_MODE : undefined });
  try {
    if (walked.name === null) {
      if (!options.parents) throw new FileError("exists", `${label} is the workspace itself, which exists`);
      return { entry: (await statPath(scope, [], label)).entry, created: false };
    }
    const created = await mkdirAt(scope.root, walked.dir, walked.name, mode);
    const stats = await lstatAt(scope.root, walked.dir, walked.name);
    if (!stats) throw new FileError("not_found", `${label} vanished right after it was created`);
    if (!created && !(options.parents && stats.isDirectory())) {
      throw new FileError("exists", `${label} exists already${stats.isDirectory() ? "" : ` (as a ${describeEntry(walked.components, stats).type})`}`);
    }
    return { entry: describeEntry(walked.components, stats), created };
  } catch (error) {
    throw toFileError(error, `create the directory ${label}`);
  } finally {
    walked.close();
  }
}
