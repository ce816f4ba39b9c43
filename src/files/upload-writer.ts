import { constants } from "node:fs";
import type { FileEntry } from "../protocol/index.ts";
import { assertContentFile, describeEntry } from "./describe-entry.ts";
import { FileError, errnoOf, toFileError } from "./file-error.ts";
import { closeFd, fchownFd, fstatFd, fsyncFd, ftruncateFd, writeAllAt } from "./fs-calls.ts";
import { lstatAt, openEntryAt, settleOwnership } from "./confined-root.ts";
import type { FileScope } from "./file-scope.ts";
import { placeFile, unlinkQuietly } from "./place-file.ts";
import { assertWithinQuota, measureUsage } from "./usage.ts";
import { isStillAt, walkPath, type Walked } from "./walk.ts";
import { assertNotLinkedIntoProtected } from "./protected-target.ts";
import { PARENT_DIRECTORY_MODE } from "./write-file.ts";
import type { ClientPath } from "./workspace-path.ts";

/** How an upload opens; the same for file.upload and HTTP PUT. */
export interface UploadOptions {
  /** Names the partial file together with the target, so that a resume finds it: the transfer id. */
  readonly key: string;
  /** 0: start afresh. More: resume the partial file at this offset, or at its end if it is shorter. */
  readonly offset: number;
  /** The whole file's size, when the client knows it: checked up front against limits and at commit. */
  readonly size: number | undefined;
  readonly ifExists: "overwrite" | "fail";
  readonly parents: boolean;
  /** undefined keeps an existing file's mode, or 0o644. */
  readonly mode: number | undefined;
}

/** An upload being written; calls must not overlap. */
export interface UploadWriter {
  /** Bytes stored so far: the next write goes here. */
  readonly offset: number;
  /** Whether a file was at the target when the upload opened. */
  readonly replacing: boolean;
  write(bytes: Uint8Array): Promise<void>;
  /** Syncs the partial file and renames it over the target. */
  commit(): Promise<FileEntry>;
  /** Stops; `keepPartial` leaves the bytes for a resume, otherwise they are deleted. Settles once done. */
  abandon(keepPartial: boolean): Promise<void>;
}

/** Prefix of partial uploads: hidden files beside the target, renamed over it at commit. */
export const PARTIAL_PREFIX = ".bunker-part-";

/** Hex digits of the hash in a partial file's name. */
const PARTIAL_HASH_DIGITS = 24;
/** Exactly the names partialNameFor makes: a user's own `.bunker-part-1` is not one (file.watch hid it). */
const PARTIAL_NAME = new RegExp(`^\\.bunker-part-[0-9a-f]{${PARTIAL_HASH_DIGITS}}$`);

/** The partial file of an upload of `name` with resume key `key`: fixed, so that a resume finds it. */
export function partialNameFor(name: string, key: string): string {
  return `${PARTIAL_PREFIX}${Bun.CryptoHasher.hash("sha256", `${name}\0${key}`, "hex").slice(0, PARTIAL_HASH_DIGITS)}`;
}

/** Whether `name` has the shape of a partial upload file. */
export function isPartialName(name: string): boolean {
  return PARTIAL_NAME.test(name);
}

/**
 * Opens an upload into a partial file in the target's (pinned) directory. The partial lives across
 * connections, so that `offset` can resume it; the commit is atomic, as for file.write.
 */
export async function openUpload(scope: FileScope, path: ClientPath, options: UploadOptions): Promise<UploadWriter> {
  const { label } = path;
  const max = scope.limits.maxTransferBytes;
  if ((options.size ?? 0) > max) throw new FileError("too_large", `${label}: ${options.size} bytes is more than the ${max} one transfer may carry`);
  const walked = await walkPath(scope.root, path.components, {
    label,
    followLast: true,
    parentsMode: options.parents ? PARENT_DIRECTORY_MODE : undefined,
    directory: path.directory,
  });
  let opened: { fd: number; offset: number; partial: string } | undefined;
  try {
    assertNotLinkedIntoProtected(scope, walked, label);
    const name = walked.name;
    if (name === null) throw new FileError("is_directory", `${label} is the workspace itself, a directory`);
    if (path.directory) throw new FileError("is_directory", `${label} ends in /, so it names a directory, never a file`);
    const existing = await lstatAt(scope.root, walked.dir, name);
    if (existing && !existing.isSymbolicLink()) assertContentFile(existing, label);
    if (existing && options.ifExists === "fail") throw new FileError("exists", `${label} exists already`);
    const partial = partialNameFor(name, options.key);
    opened = { ...(await openPartial(scope, walked, partial, options.offset)), partial };
    const fd = opened.fd;
    const replacedBytes = existing?.isFile() ? existing.size : 0;
    const usedAtOpen = scope.quotaBytes === undefined ? 0 : await measureUsage(scope.root);
    const baseline = usedAtOpen - opened.offset - replacedBytes;
    assertWithinQuota(scope.quotaBytes, baseline + (options.size ?? opened.offset), `${label}: uploading ${options.size ?? opened.offset} bytes`, usedAtOpen);
    const replaced = existing?.isFile() ? { mode: existing.mode & 0o7777, uid: existing.uid, gid: existing.gid } : undefined;
    return createWriter(scope, walked, { fd, partial, name, label, baseline, usedAtOpen, offset: opened.offset, replaced }, options);
  } catch (error) {
    if (opened) {
      closeFd(opened.fd);
      // A partial file made just now holds nothing worth a resume.
      if (opened.offset === 0) await unlinkQuietly(scope.root, walked.dir, opened.partial);
    }
    walked.close();
    throw toFileError(error, `upload ${label}`);
  }
}

/** Times a fresh upload unlinks and creates its partial file while other uploads of the same id race it. */
const MAX_FRESH_PARTIAL_ATTEMPTS = 16;

async function openPartial(scope: FileScope, walked: Walked, partial: string, offset: number): Promise<{ fd: number; offset: number }> {
  if (offset > 0) {
    try {
      const fd = await openEntryAt(scope.root, walked.dir, partial, constants.O_RDWR);
      const stats = await fstatFd(fd).catch((error: unknown) => {
        closeFd(fd);
        throw error;
      });
      try {
        assertContentFile(stats, "the partial upload");
      } catch (error) {
        closeFd(fd);
        throw error;
      }
      const resumeAt = Math.min(offset, stats.size);
      await ftruncateFd(fd, resumeAt);
      return { fd, offset: resumeAt };
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw error;
    }
  }
  // A fresh upload replaces the partial file of its id, even one that another socket of the session
  // creates at the same moment (the same id and path name the same partial file): the last to open
  // wins, and the others learn at their commit that their partial file was replaced.
  for (let attempt = 1; ; attempt++) {
    await unlinkQuietly(scope.root, walked.dir, partial);
    let fd: number;
    try {
      fd = await openEntryAt(scope.root, walked.dir, partial, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (error) {
      if (errnoOf(error) !== "EEXIST") throw error;
      if (attempt >= MAX_FRESH_PARTIAL_ATTEMPTS) {
        throw new FileError("duplicate_id", `another upload to this path with the same id keeps starting at the same moment; give each upload its own id`);
      }
      continue;
    }
    // The commands' user's from the start, as every file the server makes: root's until the
    // commit, it failed their `git add -A`, `cp -r` and `chmod -R` while an upload ran (a review).
    const owner = scope.root.owner;
    try {
      if (owner) await fchownFd(fd, owner.uid, owner.gid);
    } catch (error) {
      closeFd(fd);
      throw error;
    }
    return { fd, offset: 0 };
  }
}

interface WriterState {
  fd: number;
  partial: string;
  name: string;
  label: string;
  /** Workspace bytes apart from this upload and the file it replaces. */
  baseline: number;
  /** Workspace bytes when the upload opened: an upload that ends no larger passes the quota (see assertWithinQuota). */
  usedAtOpen: number;
  offset: number;
  /** The file the upload will replace. */
  replaced: { mode: number; uid: number; gid: number } | undefined;
}

function createWriter(scope: FileScope, walked: Walked, state: WriterState, options: UploadOptions): UploadWriter {
  let finished = false;
  // An fd closed under a write in flight could be reused by another open and written there, so
  // every close waits for the last write.
  let writing: Promise<unknown> = Promise.resolve();
  const finish = () => {
    finished = true;
    void writing.then(() => {
      closeFd(state.fd);
      walked.close();
    });
  };
  return {
    get offset() {
      return state.offset;
    },
    replacing: state.replaced !== undefined,
    async write(bytes) {
      const end = state.offset + bytes.length;
      if (end > scope.limits.maxTransferBytes) throw new FileError("too_large", `${state.label}: the upload passed the ${scope.limits.maxTransferBytes} bytes one transfer may carry`);
      if (options.size !== undefined && end > options.size) throw new FileError("too_large", `${state.label}: the upload passed its declared size of ${options.size} bytes`);
      assertWithinQuota(scope.quotaBytes, state.baseline + end, `${state.label}: uploading ${end} bytes`, state.usedAtOpen);
      if (finished) throw new FileError("unknown_transfer", `${state.label}: the upload is over`);
      const pending = writeAllAt(state.fd, bytes, state.offset);
      writing = pending.catch(() => {});
      await pending;
      state.offset = end;
    },
    async commit() {
      if (finished) throw new FileError("unknown_transfer", `${state.label}: the upload is over`);
      if (options.size !== undefined && state.offset !== options.size) {
        throw new FileError("bad_message", `${state.label}: the upload ended at ${state.offset} bytes, not at its declared size of ${options.size}`);
      }
      try {
        await settleOwnership(scope.root, state.fd, options.mode ?? state.replaced?.mode ?? 0o644, state.replaced);
        await fsyncFd(state.fd);
        const ours = await fstatFd(state.fd);
        const named = await lstatAt(scope.root, walked.dir, state.partial);
        if (!named || named.ino !== ours.ino || named.dev !== ours.dev) {
          throw new FileError("not_found", `${state.label}: the partial upload was moved or replaced before the commit (by a command, or by another upload to this path with the same id)`);
        }
        if (!(await directoryStillAt(scope, walked))) {
          // Its bytes would land where the directory went, and the reply would name a path that holds
          // nothing (or leads outside the workspace, through a symlink put in its place): refused as a
          // directory that went away is, and the partial file goes.
          await unlinkQuietly(scope.root, walked.dir, state.partial);
          throw new FileError("not_found", `${state.label}: its directory was moved or replaced before the commit (by a command)`);
        }
        await placeFile(scope.root, walked.dir, state.partial, state.name, options.ifExists === "fail", state.label);
        return describeEntry(walked.components, await fstatFd(state.fd));
      } catch (error) {
        throw toFileError(error, `commit the upload of ${state.label}`);
      } finally {
        finish();
      }
    },
    async abandon(keepPartial) {
      if (finished) return;
      finished = true;
      await writing.then(async () => {
        const ours = await fstatFd(state.fd).catch(() => null);
        closeFd(state.fd);
        // Only our own partial file goes: a later upload of the same id may have made a new one.
        const named = keepPartial ? null : await lstatAt(scope.root, walked.dir, state.partial).catch(() => null);
        if (ours && named && named.ino === ours.ino && named.dev === ours.dev) await unlinkQuietly(scope.root, walked.dir, state.partial);
        walked.close();
      });
    },
  };
}

/** Whether the directory an upload holds open is still the one its path leads to now. */
async function directoryStillAt(scope: FileScope, walked: Walked): Promise<boolean> {
  return isStillAt(scope.root, walked.components.slice(0, -1), await fstatFd(walked.dir.fd));
}
