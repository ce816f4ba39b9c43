import * as v from "valibot";
import { MAX_ACK_WINDOW_BYTES } from "./limits.ts";

// File requests and their replies: docs/PROTOCOL.md (section Files) is the prose of this file.

/** A request id: chosen by the client, echoed in the reply. Transfers and watches keep it as their handle. */
const FileIdSchema = v.pipe(v.string(), v.minLength(1, "must be 1 to 64 characters"), v.maxLength(64, "must be 1 to 64 characters"));

/**
 * A path relative to the workspace, or absolute inside it; "" and "." name the workspace itself. A
 * lone surrogate survives JSON but not UTF-8: the file would be made under U+FFFD in its place, and
 * two names the client thinks apart would be one file (found by a review).
 */
export const MAX_FILE_PATH_CHARS = 4096;

const FilePathSchema = v.pipe(
  v.string(),
  v.maxLength(MAX_FILE_PATH_CHARS, `must be at most ${MAX_FILE_PATH_CHARS} characters`),
  v.regex(/^[^\0]*$/, "must not contain NUL"),
  v.check((path) => path.isWellFormed(), "must be well-formed Unicode (no lone surrogate)"),
);

/** A byte count or offset: a whole number, 0 or more. */
export const ByteCountSchema = v.pipe(v.number(), v.safeInteger("must be an integer"), v.minValue(0, "must be >= 0"));

/** An `ackWindowBytes` (exec, attach, file.download): at least one byte, at most 64 MiB. */
export const AckWindowSchema = v.pipe(
  v.number(),
  v.safeInteger("must be an integer"),
  v.minValue(1, "must be >= 1"),
  v.maxValue(MAX_ACK_WINDOW_BYTES, `must be <= ${MAX_ACK_WINDOW_BYTES}`),
);

/** Permission bits, as a number (420 is 0o644). */
const ModeSchema = v.pipe(v.number(), v.integer("must be an integer"), v.minValue(0, "must be >= 0"), v.maxValue(0o7777, "must be <= 4095 (0o7777)"));

/** How file bytes travel in JSON. */
const FileEncodingSchema = v.picklist(["utf8", "base64"], 'must be "utf8" or "base64"');

/** What a write does when the file exists. */
const IfExistsSchema = v.picklist(["overwrite", "fail", "append"], 'must be "overwrite", "fail" or "append"');

const request = <T extends string, E extends v.ObjectEntries>(type: T, entries: E) =>
  v.object({ type: v.literal(type), id: FileIdSchema, ...entries });

/** One path's metadata. */
export const FileStatRequestSchema = request("file.stat", { path: FilePathSchema });
/** A directory's entries, `depth` levels down (1: only its own). */
export const FileListRequestSchema = request("file.list", {
  path: FilePathSchema,
  depth: v.optional(v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be >= 1"), v.maxValue(64, "must be <= 64"))),
});
/** Bytes of a file, up to the per-message cap. */
export const FileReadRequestSchema = request("file.read", {
  path: FilePathSchema,
  offset: v.optional(ByteCountSchema),
  length: v.optional(ByteCountSchema),
  encoding: v.optional(FileEncodingSchema),
});
/** A whole file (atomic), or bytes appended to one. */
export const FileWriteRequestSchema = request("file.write", {
  path: FilePathSchema,
  data: v.string(),
  encoding: v.optional(FileEncodingSchema),
  ifExists: v.optional(IfExistsSchema),
  parents: v.optional(v.boolean()),
  mode: v.optional(ModeSchema),
});
export const FileMkdirRequestSchema = request("file.mkdir", {
  path: FilePathSchema,
  parents: v.optional(v.boolean()),
  mode: v.optional(ModeSchema),
});
export const FileMoveRequestSchema = request("file.move", {
  from: FilePathSchema,
  to: FilePathSchema,
  overwrite: v.optional(v.boolean()),
  parents: v.optional(v.boolean()),
});
export const FileRemoveRequestSchema = request("file.remove", { path: FilePathSchema, recursive: v.optional(v.boolean()) });
/** Opens an upload; `offset` > 0 resumes the partial upload of the same id and path. */
export const FileUploadRequestSchema = request("file.upload", {
  path: FilePathSchema,
  size: v.optional(ByteCountSchema),
  offset: v.optional(ByteCountSchema),
  ifExists: v.optional(v.picklist(["overwrite", "fail"], 'must be "overwrite" or "fail"')),
  parents: v.optional(v.boolean()),
  mode: v.optional(ModeSchema),
});
/** Bytes of an open upload, in base64; `eof` commits it. */
export const FileUploadChunkRequestSchema = request("file.upload.chunk", {
  offset: ByteCountSchema,
  data: v.string(),
  eof: v.optional(v.boolean()),
});
/** A version of a file, as `file.download.ready` and HTTP's `ETag` give it: quotes included. */
const EntityTagSchema = v.pipe(v.string(), v.maxLength(256, "must be at most 256 characters"));

/**
 * Bytes of a file in chunks. `ifRange` is the `etag` of an earlier download that this one resumes:
 * when the file is no longer that version, the whole file comes instead, from offset 0 (as HTTP's
 * If-Range gives it), so that a resume never splices two versions.
 */
export const FileDownloadRequestSchema = request("file.download", {
  path: FilePathSchema,
  offset: v.optional(ByteCountSchema),
  length: v.optional(ByteCountSchema),
  ifRange: v.optional(EntityTagSchema),
  /** Flow control by credit: at most this many bytes sent and not yet acknowledged by `file.download.ack`. */
  ackWindowBytes: v.optional(AckWindowSchema),
});
/** The client has consumed a download up to `offset` (a file offset, as the chunks' are). */
export const FileDownloadAckRequestSchema = request("file.download.ack", { offset: ByteCountSchema });
/** Stops an upload (its partial file is deleted) or a download. */
export const FileCancelRequestSchema = request("file.cancel", {});
export const FileWatchRequestSchema = request("file.watch", { path: FilePathSchema, recursive: v.optional(v.boolean()) });
export const FileUnwatchRequestSchema = request("file.unwatch", {});

/** Every file request a client may send (a tuple, spread into the client message variant). */
export const FILE_REQUEST_SCHEMAS = [
  FileStatRequestSchema,
  FileListRequestSchema,
  FileReadRequestSchema,
  FileWriteRequestSchema,
  FileMkdirRequestSchema,
  FileMoveRequestSchema,
  FileRemoveRequestSchema,
  FileUploadRequestSchema,
  FileUploadChunkRequestSchema,
  FileDownloadRequestSchema,
  FileDownloadAckRequestSchema,
  FileCancelRequestSchema,
  FileWatchRequestSchema,
  FileUnwatchRequestSchema,
] as const;
export type FileRequest = v.InferOutput<(typeof FILE_REQUEST_SCHEMAS)[number]>;
/** The `type` values of file requests. */
export const FILE_REQUEST_TYPES = FILE_REQUEST_SCHEMAS.map((schema) => schema.entries.type.literal) as readonly FileRequest["type"][];

/** Whether a client message is a file request (the session hands those to the file handler). */
export function isFileRequest(message: { type: string }): message is FileRequest {
  return (FILE_REQUEST_TYPES as readonly string[]).includes(message.type);
}

export const FILE_ENTRY_TYPES = ["file", "directory", "symlink", "fifo", "socket", "device"] as const;
export type FileEntryType = (typeof FILE_ENTRY_TYPES)[number];

/** What the server reports of one path. Symlinks are described, never followed. */
export const FileEntrySchema = v.object({
  /** Relative to the workspace, "/"-separated; "." is the workspace itself. */
  path: v.string(),
  name: v.string(),
  type: v.picklist(FILE_ENTRY_TYPES),
  size: v.number(),
  /** Permission bits (mode & 0o7777). */
  mode: v.number(),
  mtimeMs: v.number(),
  uid: v.number(),
  gid: v.number(),
  nlink: v.number(),
  /** A symlink's target, as stored; present for symlinks only. */
  target: v.optional(v.string()),
});
export type FileEntry = v.InferOutput<typeof FileEntrySchema>;

const reply = <T extends string, E extends v.ObjectEntries>(type: T, entries: E) =>
  v.object({ type: v.literal(type), id: v.string(), ...entries });

export const FileStatReplySchema = reply("file.stat.result", {
  entry: FileEntrySchema,
  /** Only for the workspace itself: bytes in regular files, and the quota (null: none). */
  usage: v.optional(v.object({ usedBytes: v.number(), quotaBytes: v.nullable(v.number()) })),
});
export const FileListReplySchema = reply("file.list.result", { entries: v.array(FileEntrySchema), truncated: v.boolean() });
export const FileReadReplySchema = reply("file.read.result", {
  offset: v.number(),
  /** Raw bytes covered by `data`. */
  bytes: v.number(),
  size: v.number(),
  eof: v.boolean(),
  encoding: FileEncodingSchema,
  data: v.string(),
});
export const FileWriteReplySchema = reply("file.write.result", { entry: FileEntrySchema });
export const FileMkdirReplySchema = reply("file.mkdir.result", { entry: FileEntrySchema, created: v.boolean() });
export const FileMoveReplySchema = reply("file.move.result", { entry: FileEntrySchema });
export const FileRemoveReplySchema = reply("file.remove.result", {});
/** Send bytes from `offset`, at most `chunkBytes` raw per chunk, at most `windowBytes` beyond the last ack. */
export const FileUploadReadyReplySchema = reply("file.upload.ready", { offset: v.number(), chunkBytes: v.number(), windowBytes: v.number() });
/** Bytes up to `offset` are written. */
export const FileUploadAckReplySchema = reply("file.upload.ack", { offset: v.number() });
export const FileUploadDoneReplySchema = reply("file.upload.done", { entry: FileEntrySchema });
/**
 * The range served (offset 0 and the whole file when `ifRange` named another version), and the
 * version's tag. `ackWindowBytes` echoes the request's: present, the server waits for acks.
 */
export const FileDownloadReadyReplySchema = reply("file.download.ready", {
  size: v.number(),
  offset: v.number(),
  length: v.number(),
  etag: v.string(),
  ackWindowBytes: v.optional(v.number()),
});
export const FileDownloadChunkReplySchema = reply("file.download.chunk", { offset: v.number(), data: v.string() });
export const FileDownloadDoneReplySchema = reply("file.download.done", { offset: v.number(), bytes: v.number() });
export const FileCancelReplySchema = reply("file.cancel.result", {});
export const FileWatchReadyReplySchema = reply("file.watch.ready", { path: v.string() });
export const FILE_EVENT_TYPES = ["create", "modify", "remove"] as const;
export const FileWatchEventsReplySchema = reply("file.watch.events", {
  events: v.array(v.object({ type: v.picklist(FILE_EVENT_TYPES), path: v.string() })),
  /** Events were lost (too many, or the client read too slowly): list the tree again. */
  overflow: v.optional(v.boolean()),
});
export const FileUnwatchReplySchema = reply("file.unwatch.result", {
  /** Sent without a file.unwatch: the watched directory was removed or moved away, and the watch has ended. */
  gone: v.optional(v.literal(true)),
});

/** Every file reply the server may send (spread into the server message variant). */
export const FILE_REPLY_SCHEMAS = [
  FileStatReplySchema,
  FileListReplySchema,
  FileReadReplySchema,
  FileWriteReplySchema,
  FileMkdirReplySchema,
  FileMoveReplySchema,
  FileRemoveReplySchema,
  FileUploadReadyReplySchema,
  FileUploadAckReplySchema,
  FileUploadDoneReplySchema,
  FileDownloadReadyReplySchema,
  FileDownloadChunkReplySchema,
  FileDownloadDoneReplySchema,
  FileCancelReplySchema,
  FileWatchReadyReplySchema,
  FileWatchEventsReplySchema,
  FileUnwatchReplySchema,
] as const;
export type FileReply = v.InferOutput<(typeof FILE_REPLY_SCHEMAS)[number]>;
/** The file request of one `type`. */
export type FileRequestOf<T extends FileRequest["type"]> = Extract<FileRequest, { type: T }>;
