import { MAX_OPEN_FILE_HANDLES, MAX_QUEUED_FILE_REQUESTS } from "../protocol/limits.ts";
/** Sizes and counts the file code holds to; every field has a default (DEFAULT_FILE_LIMITS). */
export interface FileLimits {
  /** Most raw bytes in one `file.read` reply or one `file.write` request. */
  readonly maxMessageBytes: number;
  /** Most bytes in one upload or download (over WebSocket or HTTP). */
  readonly maxTransferBytes: number;
  /** Raw bytes in each `file.download.chunk`, and the most an upload chunk may carry. */
  readonly chunkBytes: number;
  /** Bytes an uploading client may send beyond the last ack. */
  readonly windowBytes: number;
  /** Uploads, downloads and watches open at once on one connection. */
  readonly maxOpenHandles: number;
  /** Requests waiting for their turn on one connection. */
  readonly maxQueuedRequests: number;
  /** Entries in one `file.list` reply. */
  readonly maxListEntries: number;
  /** Directories one recursive watch follows. */
  readonly maxWatchedDirectories: number;
  /** How long a watch gathers events before it sends them. */
  readonly watchBatchMs: number;
  /** Events a watch holds for a slow client before it reports an overflow instead. */
  readonly maxPendingEvents: number;
}

/** The limits docs/PROTOCOL.md lists (Files: Limits). */
export const DEFAULT_FILE_LIMITS: FileLimits = {
  maxMessageBytes: 1024 * 1024,
  maxTransferBytes: 64 * 1024 * 1024 * 1024,
  chunkBytes: 256 * 1024,
  windowBytes: 4 * 1024 * 1024,
  maxOpenHandles: MAX_OPEN_FILE_HANDLES,
  maxQueuedRequests: MAX_QUEUED_FILE_REQUESTS,
  maxListEntries: 10_000,
  maxWatchedDirectories: 4096,
  watchBatchMs: 50,
  maxPendingEvents: 10_000,
};

/**
 * The limits under a server's frame limit (`--max-frame-bytes`): an upload chunk travels as base64
 * inside a JSON message, which must fit one frame, so a small frame limit means small chunks.
 */
export function fileLimitsForFrames(maxFrameBytes: number): Partial<FileLimits> {
  // Base64 is 4 characters for 3 bytes; 512 bytes are left for the message around it (id, offset).
  const fitting = Math.floor((maxFrameBytes - 512) / 4) * 3;
  return fitting >= DEFAULT_FILE_LIMITS.chunkBytes ? {} : { chunkBytes: Math.max(3, fitting) };
}

/** The defaults, with any given field laid over them. */
export function resolveFileLimits(given: Partial<FileLimits> | undefined): FileLimits {
  return { ...DEFAULT_FILE_LIMITS, ...given };
}
