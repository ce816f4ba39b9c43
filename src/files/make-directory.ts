import type { FileEntry } from "../protocol/index.ts";
import { describeEntry } from "./describe-entry.ts";
import { FileError, toFileError } from "./file-error.ts";
import { lstatAt, mkdirAt } from "./confined-root.ts";
import type { FileScope } from "./file-scope.ts";
import { fstatFd } from "./fs-calls.ts";
import { walkPath } from "./walk.ts";
import { assertNotLinkedIntoProtected } from "./protected-target.ts";
import { PARENT_DIRECTORY_MODE } from "./write-file.ts";
import type { ClientPath, Components } from "./workspace-path.ts";

/**
 * Creates a directory (owned by the root's owner, exactly `mode`). With `parents`, missing parents
 * are created too and an existing directory is fine (`created: false`), as `mkdir -p`, including
 * one reached through a symlink that stays inside the workspace. A trailing `/` changes nothing:
 * what mkdir makes is a directory anyway.
 */
export async function makeDirectory(scope: FileScope, path: ClientPath, options: { parents: boolean; mode: number | undefined }): Promise<{ entry: FileEntry; created: boolean }> {
  const { label } = path;
  const mode = options.mode ?? PARENT_DIRECTORY_MODE;
  const walked = await walkPath(scope.root, path.components, { label, followLast: false, parentsMode: options.parents ? PARENT_DIRECTORY_MODE : undefined });
  try {
    if (walked.name === null) {
      if (!options.parents) throw new FileError("exists", `${label} is the workspace itself, which exists`);
      return { entry: describeEntry([], await fstatFd(walked.dir.fd)), created: false };
    }
    assertNotLinkedIntoProtected(scope, walked, label);
    const created = await mkdirAt(scope.root, walked.dir, walked.name, mode);
    const stats = await lstatAt(scope.root, walked.dir, walked.name);
    if (!stats) throw new FileError("not_found", `${label} vanished right after it was created`);
    if (created || (options.parents && stats.isDirectory())) return { entry: describeEntry(walked.components, stats), created };
    if (!options.parents || !stats.isSymbolicLink()) {
      throw new FileError("exists", `${label} exists already${stats.isDirectory() ? "" : ` (as a ${describeEntry(walked.components, stats).type})`}`);
    }
    const linked = await followToDirectory(scope, walked.components, label);
    if (linked.entry) return { entry: linked.entry, created: false };
    throw new FileError("exists", `${label} exists already as a symlink that ${linked.reason}; mkdir follows a symlink only to a directory inside the workspace`);
  } catch (error) {
    throw toFileError(error, `create the directory ${label}`);
  } finally {
    walked.close();
  }
}

/** Why a symlink's walk ended short of a directory, by the walk's error code. */
const UNFOLLOWED_REASONS: Partial<Record<FileError["code"], string>> = {
  path_outside_workspace: "leads outside the workspace",
  not_found: "leads to nothing",
  not_directory: "leads through something that is not a directory",
  limit_exceeded: "goes through too many symlinks",
};

/**
 * What the symlink at `link` leads to, through the same confined walk as every other request: the
 * directory it reaches inside the workspace, or why it does not reach one. Nothing is created
 * through the link, so one that leads outside, to a file or nowhere stays `exists`, as before.
 */
async function followToDirectory(scope: FileScope, link: Components, label: string): Promise<{ entry: FileEntry; reason?: never } | { entry?: never; reason: string }> {
  let target;
  try {
    target = await walkPath(scope.root, link, { label, followLast: true });
  } catch (error) {
    const reason = error instanceof FileError ? UNFOLLOWED_REASONS[error.code] : undefined;
    if (reason) return { reason };
    throw error;
  }
  try {
    if (target.name === null) return { entry: describeEntry([], await fstatFd(target.dir.fd)) };
    const stats = await lstatAt(scope.root, target.dir, target.name);
    if (stats?.isDirectory()) return { entry: describeEntry(target.components, stats) };
    return { reason: stats ? `leads to a ${describeEntry(target.components, stats).type}` : "leads to nothing" };
  } finally {
    target.close();
  }
}
