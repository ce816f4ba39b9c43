import { constants, type Stats } from "node:fs";
import { join } from "node:path";
import { FileError, errnoOf } from "./file-error.ts";
import { closeFd, fchmodFd, fchownFd, lstatPath, mkdirPath, openFd, readdirBytes } from "./fs-calls.ts";
import { selectPathScheme, type OpenDir, type PathScheme } from "./platform/index.ts";

/** uid and gid that files the server creates are given. */
export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
}

/** A workspace as the file code sees it: where it is, how to walk it, who owns what it creates. */
export interface ConfinedRoot {
  /** Real path of the workspace. */
  readonly workspace: string;
  readonly scheme: PathScheme;
  readonly owner: FileOwner | undefined;
}

/** The PathScheme of this platform, picked once. */
const DEFAULT_SCHEME = selectPathScheme();

/** The workspace at `workspace` (a real path), walked with `scheme`, creating files owned by `owner`. */
export function createConfinedRoot(workspace: string, owner: FileOwner | undefined, scheme: PathScheme = DEFAULT_SCHEME): ConfinedRoot {
  return { workspace, owner, scheme };
}

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** The flags every directory of the walk is opened with: never through a symlink, as the scheme asks. */
export function directoryOpenFlags(root: ConfinedRoot): number {
  return O_RDONLY | O_DIRECTORY | O_NOFOLLOW | root.scheme.openFlags;
}

/** Opens the workspace itself; its path is the server's own and trusted. */
export async function openRootDir(root: ConfinedRoot): Promise<OpenDir> {
  try {
    const fd = await openFd(root.workspace, directoryOpenFlags(root));
    return { fd, components: [], hostPath: root.workspace };
  } catch (error) {
    throw new FileError("internal", `could not open the workspace: ${errnoOf(error) ?? (error as Error).message}`);
  }
}

/** The path through which entry `name` of the open directory is reached (see PathScheme). */
export function entryPath(root: ConfinedRoot, dir: OpenDir, name: string): string {
  return root.scheme.entryPath(dir, name);
}

/**
 * An entry's name as its directory holds it: text when it is valid UTF-8, else its bytes (a name
 * from a tar archive, say). Text cannot carry such a name, and decoding it would name nothing.
 */
export type EntryName = string | Buffer;

/** The entries of an open directory, each as an EntryName. */
export async function readEntryNames(root: ConfinedRoot, dir: OpenDir): Promise<EntryName[]> {
  return (await readdirBytes(root.scheme.dirPath(dir))).map((bytes) => {
    const text = bytes.toString("utf8");
    // Only a decoding that produced U+FFFD can have lost bytes: the usual name costs no second buffer.
    return !text.includes("\uFFFD") || Buffer.from(text).equals(bytes) ? text : bytes;
  });
}

/** entryPath for an EntryName: a name of bytes gets a path of bytes, which node:fs takes as it is. */
export function entryPathOf(root: ConfinedRoot, dir: OpenDir, name: EntryName): string | Buffer {
  return typeof name === "string" ? entryPath(root, dir, name) : Buffer.concat([Buffer.from(`${root.scheme.dirPath(dir)}/`), name]);
}

/** How a name is shown: as it is, or decoded with U+FFFD for what is not UTF-8. */
export function nameText(name: EntryName): string {
  return typeof name === "string" ? name : name.toString("utf8");
}

/** Opens entry `name` of `dir` as a directory, never through a symlink. Throws the errno (ENOTDIR for a symlink). */
export async function openDirAt(root: ConfinedRoot, dir: OpenDir, name: EntryName): Promise<OpenDir> {
  const fd = await openFd(entryPathOf(root, dir, name), directoryOpenFlags(root));
  const opened = { fd, components: [...dir.components, nameText(name)], hostPath: join(dir.hostPath, nameText(name)) };
  if (!(await root.scheme.verifyDirectory(opened))) {
    closeFd(fd);
    throw new FileError("path_outside_workspace", `${opened.components.join("/")} changed while the server opened it`);
  }
  return opened;
}

/** Opens entry `name` of `dir` with `flags`, never through a symlink (ELOOP) and never blocking on a fifo. */
export function openEntryAt(root: ConfinedRoot, dir: OpenDir, name: string, flags: number, mode = 0o600): Promise<number> {
  return openFd(entryPath(root, dir, name), flags | O_NOFOLLOW | O_NONBLOCK | root.scheme.openFlags, mode);
}

/** lstat of entry `name` of `dir`, or null when it does not exist. */
export async function lstatAt(root: ConfinedRoot, dir: OpenDir, name: EntryName): Promise<Stats | null> {
  try {
    return await lstatPath(entryPathOf(root, dir, name));
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return null;
    throw error;
  }
}

/**
 * Gives an fd the root's owner, or else `replaced`'s (the file it is about to replace, so that a
 * rewrite keeps a command's file its own), and exactly `mode` (umask does not apply).
 */
export async function settleOwnership(root: ConfinedRoot, fd: number, mode: number, replaced?: FileOwner): Promise<void> {
  const owner = root.owner ?? replaced;
  if (owner) await fchownFd(fd, owner.uid, owner.gid);
  await fchmodFd(fd, mode);
}

/** Creates directory `name` in `dir` with the root's owner and `mode`; false when something else is there now. */
export async function mkdirAt(root: ConfinedRoot, dir: OpenDir, name: string, mode: number): Promise<boolean> {
  try {
    await mkdirPath(entryPath(root, dir, name), 0o700);
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return false;
    throw error;
  }
  // Created 0700 and opened again without following: the owner and mode land on this directory only.
  let created: OpenDir;
  try {
    created = await openDirAt(root, dir, name);
  } catch {
    return true;
  }
  try {
    await settleOwnership(root, created.fd, mode);
  } finally {
    closeFd(created.fd);
  }
  return true;
}
