import type { FileEntry } from "../protocol/index.ts";
import { describeEntry } from "./describe-entry.ts";
import { assertNotLinkedIntoProtected } from "./protected-target.ts";
import { FileError, errnoOf, toFileError } from "./file-error.ts";
import { renamePath } from "./fs-calls.ts";
import { entryPath, lstatAt } from "./confined-root.ts";
import type { FileScope } from "./file-scope.ts";
import { describeEntryAt } from "./inspect.ts";
import { walkPath, type Walked } from "./walk.ts";
import { PARENT_DIRECTORY_MODE } from "./write-file.ts";
import type { ClientPath } from "./workspace-path.ts";

/**
 * Renames `from` to `to`, both inside the workspace; a symlink is moved itself. Without `overwrite`
 * an existing `to` is `exists` (checked just before the rename: a command that creates `to` in
 * between has it replaced, which stays inside the workspace).
 */
export async function movePath(
  scope: FileScope,
  from: ClientPath,
  to: ClientPath,
  options: { overwrite: boolean; parents: boolean },
): Promise<FileEntry> {
  let source: Walked | undefined;
  let target: Walked | undefined;
  try {
    source = await walkPath(scope.root, from.components, { label: from.label, followLast: false, directory: from.directory });
    if (source.name === null) throw new FileError("bad_message", `${from.label} is the workspace itself, which cannot be moved`);
    assertNotLinkedIntoProtected(scope, source, from.label);
    const moved = await lstatAt(scope.root, source.dir, source.name);
    if (!moved) throw new FileError("not_found", `${from.label} does not exist in the workspace`);
    if (to.directory && !moved.isDirectory()) throw new FileError("not_directory", `${to.label} ends in /, but ${from.label} is not a directory`);
    target = await walkPath(scope.root, to.components, {
      label: to.label,
      followLast: false,
      parentsMode: options.parents ? PARENT_DIRECTORY_MODE : undefined,
      directory: to.directory,
    });
    if (target.name === null) throw new FileError("bad_message", `${to.label} is the workspace itself, which cannot be replaced`);
    assertNotLinkedIntoProtected(scope, target, to.label);
    // A path moved onto itself stays as it is, as rename(2) leaves it: it was `exists` (a review).
    if (sameComponents(source.components, target.components)) return (await describeEntryAt(scope.root, target.dir, target.name)) ?? describeEntry(target.components, moved);
    const existing = await lstatAt(scope.root, target.dir, target.name);
    if (existing && !options.overwrite) throw new FileError("exists", `${to.label} exists already; give overwrite: true to replace it`);
    try {
      await renamePath(entryPath(scope.root, source.dir, source.name), entryPath(scope.root, target.dir, target.name));
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === "ENOTEMPTY" || errno === "EEXIST") throw new FileError("exists", `${to.label} is a directory that is not empty`);
      if (errno === "EISDIR") throw new FileError("is_directory", `${to.label} is a directory and ${from.label} is not`);
      if (errno === "ENOTDIR") throw new FileError("not_directory", `${to.label} is not a directory and ${from.label} is`);
      if (errno === "EINVAL") throw new FileError("bad_message", `${from.label} cannot move into itself`);
      throw error;
    }
    return (await describeEntryAt(scope.root, target.dir, target.name)) ?? describeEntry(target.components, moved);
  } catch (error) {
    throw toFileError(error, `move ${from.label}`);
  } finally {
    source?.close();
    target?.close();
  }
}

function sameComponents(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((name, index) => name === right[index]);
}
