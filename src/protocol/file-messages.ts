import * as v from "valibot";

// STUB, to be replaced by the files work (issue 5): the exported names below are the contract that
// client-messages.ts, server-messages.ts and the session rely on.

/** Read one path's metadata. */
export const FileStatRequestSchema = v.object({
  type: v.literal("file.stat"),
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  path: v.string(),
});

/** Every file request a client may send (a tuple, spread into the client message variant). */
export const FILE_REQUEST_SCHEMAS = [FileStatRequestSchema] as const;
export type FileRequest = v.InferOutput<(typeof FILE_REQUEST_SCHEMAS)[number]>;
/** The `type` values of file requests. */
export const FILE_REQUEST_TYPES = ["file.stat"] as const;

/** Whether a client message is a file request (the session hands those to the file handler). */
export function isFileRequest(message: { type: string }): message is FileRequest {
  return (FILE_REQUEST_TYPES as readonly string[]).includes(message.type);
}

/** Metadata of one path. */
export const FileStatReplySchema = v.object({
  type: v.literal("file.stat.result"),
  id: v.string(),
});

/** Every file reply the server may send (spread into the server message variant). */
export const FILE_REPLY_SCHEMAS = [FileStatReplySchema] as const;
export type FileReply = v.InferOutput<(typeof FILE_REPLY_SCHEMAS)[number]>;
