import type { FileEntry, FileReply } from "../protocol/index.ts";
import { encodeBase64 } from "./base64.ts";
import { concatBytes } from "./concat-bytes.ts";
import { createDeferred, type Deferred } from "./deferred.ts";
import { BunkerError } from "./errors.ts";
import { describeKind } from "./bytes-argument.ts";
import type { FileChannel } from "./file-channel.ts";

/** Options of `files.upload`, as `file.upload` takes them. */
export interface UploadOptions {
  /** `"fail"`: refuse an existing file (`exists`). Default `"overwrite"`. */
  ifExists?: "overwrite" | "fail";
  /** Create missing parent directories (default true). */
  parents?: boolean;
  /** Permission bits of the file (default: the replaced file's, or 0644). */
  mode?: number;
}

/**
 * `file.upload`: the bytes go in chunks of the server's `chunkBytes`, never more than its
 * `windowBytes` beyond its last ack, and the file appears whole at the end (a rename), or not at all.
 */
export async function uploadFile(channel: FileChannel, path: string, data: Uint8Array | AsyncIterable<Uint8Array>, options: UploadOptions): Promise<FileEntry> {
  if (!(data instanceof Uint8Array) && !isIterable(data)) {
    throw new TypeError(`files.upload: data must be a Uint8Array or an async iterable of them, got ${describeKind(data)}`);
  }
  const id = channel.nextId();
  const size = data instanceof Uint8Array ? data.byteLength : undefined;
  const ready = createDeferred<{ chunkBytes: number; windowBytes: number }>();
  const done = createDeferred<FileEntry>();
  let acked = 0;
  /** Settled by the next ack (or a failure): what a chunk waiting for the window waits on. */
  let room: Deferred<void> | undefined;
  let failure: BunkerError | undefined;
  const wake = () => {
    const waiting = room;
    room = undefined;
    waiting?.resolve();
  };
  const opened = channel.open(
    {
      type: "file.upload",
      id,
      path,
      ...(size !== undefined && { size }),
      ...(options.ifExists !== undefined && { ifExists: options.ifExists }),
      ...(options.parents !== undefined && { parents: options.parents }),
      ...(options.mode !== undefined && { mode: options.mode }),
    },
    {
      reply(message: FileReply) {
        if (message.type === "file.upload.ready") ready.resolve({ chunkBytes: message.chunkBytes, windowBytes: message.windowBytes });
        else if (message.type === "file.upload.ack") {
          acked = Math.max(acked, message.offset);
          wake();
        } else if (message.type === "file.upload.done") {
          channel.release(id);
          done.resolve(message.entry);
        }
      },
      fail(error) {
        channel.release(id);
        failure = error;
        ready.reject(error);
        done.reject(error);
        wake();
      },
    },
  );
  if (!opened) throw new BunkerError("connection_closed", `the connection closed before the upload of ${JSON.stringify(path)} was sent`);
  // Left unawaited when the upload fails before its end: not an unhandled rejection then.
  done.promise.catch(() => {});
  const { chunkBytes, windowBytes } = await ready.promise;
  let sent = 0;
  const sendChunk = async (bytes: Uint8Array, eof: boolean) => {
    while (!failure && sent + bytes.byteLength - acked > windowBytes) await (room ??= createDeferred<void>()).promise;
    if (failure) throw failure;
    await channel.drained();
    if (!channel.send({ type: "file.upload.chunk", id, offset: sent, data: encodeBase64(bytes), ...(eof && { eof: true }) })) {
      throw new BunkerError("connection_closed", `the connection closed during the upload of ${JSON.stringify(path)}`);
    }
    sent += bytes.byteLength;
  };
  const sending = (async () => {
    try {
      for await (const piece of piecesOf(data, chunkBytes)) await sendChunk(piece.bytes, piece.last);
    } catch (error) {
      if (!failure) {
        channel.send({ type: "file.cancel", id });
        channel.release(id);
      }
      throw error;
    }
  })();
  // A failure (the server's error, or the socket closed) settles the upload at once, even while the
  // source is still producing its next chunk; the sending stops at that chunk.
  sending.catch(() => {});
  await Promise.race([sending, done.promise]);
  return done.promise;
}

/** The data in pieces of at most `chunkBytes`, the last one marked (an empty one when the data is empty). */
async function* piecesOf(data: Uint8Array | AsyncIterable<Uint8Array>, chunkBytes: number): AsyncGenerator<{ bytes: Uint8Array; last: boolean }> {
  if (data instanceof Uint8Array) {
    for (let start = 0; ; start += chunkBytes) {
      const bytes = data.subarray(start, start + chunkBytes);
      const last = start + chunkBytes >= data.byteLength;
      yield { bytes, last };
      if (last) return;
    }
  }
  // An iterable of any chunk sizes: regrouped so that only the final piece is short.
  let held: Uint8Array = new Uint8Array(0);
  for await (const chunk of data) {
    // An ArrayBuffer or a string joined as nothing, or as zeros: the file would be wrong, not refused.
    if (!(chunk instanceof Uint8Array)) throw new TypeError(`files.upload: the data yielded ${describeKind(chunk)}, not a Uint8Array`);
    const joined = concatBytes([held, chunk]);
    let start = 0;
    // Keep at least one byte back: whether a piece is the last is known only at the end.
    for (; joined.byteLength - start > chunkBytes; start += chunkBytes) yield { bytes: joined.subarray(start, start + chunkBytes), last: false };
    held = joined.subarray(start);
  }
  yield { bytes: held, last: true };
}

function isIterable(data: unknown): data is AsyncIterable<unknown> | Iterable<unknown> {
  return typeof data === "object" && data !== null && (Symbol.asyncIterator in data || Symbol.iterator in data);
}
