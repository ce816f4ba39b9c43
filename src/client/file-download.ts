import * as v from "valibot";
import { FileDownloadRequestSchema, describeIssue, type FileReply } from "../protocol/index.ts";
import { decodeBase64 } from "./base64.ts";
import { BunkerError } from "./errors.ts";
import type { FileChannel } from "./file-channel.ts";
import { ReplyQueue } from "./reply-queue.ts";

/** Options of `files.download`. */
export interface DownloadOptions {
  /** Where to start, in bytes: resume from the offset a broken download had reached. */
  offset?: number;
  /** How many bytes at most (default: to the end). */
  length?: number;
  /**
   * With `offset`: the `etag` of the version the broken download was reading (its `ready.etag`, or
   * the HTTP ETag). A file that changed since is sent whole from offset 0 instead, never spliced:
   * `ready.offset` then says 0.
   */
  ifRange?: string;
  /**
   * Bytes the server may send beyond what the loop has taken (1 to 64 MiB; default
   * DEFAULT_DOWNLOAD_WINDOW_BYTES): at most this much of the file waits in the client's memory.
   */
  ackWindowBytes?: number;
}

/**
 * The window a download asks for unless told otherwise. 4 MiB, the window the server gives uploads
 * (16 chunks), bounds what a slow loop holds per download, while a fast one never waits for an ack
 * on a short round trip: the server sends at most a window per round trip, 400 MB/s at 10 ms.
 */
export const DEFAULT_DOWNLOAD_WINDOW_BYTES = 4 * 1024 * 1024;

/** What the server sends, as its `file.download.ready` says. */
export interface DownloadReady {
  /** The file's size when the server opened it. */
  size: number;
  /** Where the bytes begin: the `offset` asked for, or 0 when `ifRange` named another version. */
  offset: number;
  /** How many bytes will come (fewer if the file shrinks meanwhile). */
  length: number;
  /** The version opened, to pass as `ifRange` when resuming. */
  etag: string;
}

/**
 * A download: an async iterable of the file's bytes. Each iteration is one `file.download`.
 * `ready` is set once the server has opened the file: by the first chunk (or the end) of an iteration.
 */
export interface FileDownload extends AsyncIterable<Uint8Array> {
  /** What the latest iteration's server sends; undefined until its `file.download.ready`. */
  readonly ready: DownloadReady | undefined;
}

/**
 * `file.download` as an async iterable of the file's bytes, in the server's chunks (256 KiB). The
 * server reads the next chunk only while the socket's queue is short, so a slow network holds the
 * file, not its memory; and only while less than `ackWindowBytes` it sent is not acknowledged. A
 * chunk counts as consumed once the loop asks for the next one, and the loop's `next()` sends
 * `file.download.ack` every quarter window, so a slow loop holds at most a window here. Breaking
 * out of the loop cancels the download. Throws a TypeError for a bad `ackWindowBytes`.
 */
export function downloadFile(channel: FileChannel, path: string, options: DownloadOptions): FileDownload {
  const checked = v.safeParse(FileDownloadRequestSchema.entries.ackWindowBytes, options.ackWindowBytes);
  if (!checked.success) throw new TypeError(`download: ackWindowBytes: ${describeIssue(checked.issues[0])} (got ${JSON.stringify(options.ackWindowBytes)})`);
  const ackWindowBytes = options.ackWindowBytes ?? DEFAULT_DOWNLOAD_WINDOW_BYTES;
  // The server stops only with a whole window unacknowledged: acking every quarter keeps it sending
  // while the loop keeps up, with four small messages a window.
  const ackStepBytes = Math.max(1, Math.floor(ackWindowBytes / 4));
  let ready: DownloadReady | undefined;
  return {
    get ready() {
      return ready;
    },
    [Symbol.asyncIterator]() {
      const id = channel.nextId();
      ready = undefined;
      const chunks = new ReplyQueue<Uint8Array>();
      /** File offsets: the end of the chunks handed to the loop, and the last acknowledged. */
      let delivered = 0;
      let acked = 0;
      /** The server takes acks: its ready echoed the window, and it has not ended the download. */
      let acking = false;
      const acknowledge = () => {
        if (!acking || delivered - acked < ackStepBytes) return;
        acked = delivered;
        channel.send({ type: "file.download.ack", id, offset: acked });
      };
      const opened = channel.open(
        {
          type: "file.download",
          id,
          path,
          ...(options.offset !== undefined && { offset: options.offset }),
          ...(options.length !== undefined && { length: options.length }),
          ...(options.ifRange !== undefined && { ifRange: options.ifRange }),
          ackWindowBytes,
        },
        {
          reply(message: FileReply) {
            if (message.type === "file.download.ready") {
              ready = { size: message.size, offset: message.offset, length: message.length, etag: message.etag };
              delivered = acked = message.offset;
              // A server that predates download acks leaves the window out, and wants no acks.
              acking = message.ackWindowBytes !== undefined;
            } else if (message.type === "file.download.chunk") {
              const bytes = decodeBase64(message.data);
              if (!bytes) return this.fail(new BunkerError("protocol_violation", `file.download.chunk of ${JSON.stringify(path)} is not base64`));
              chunks.push(bytes);
            } else if (message.type === "file.download.done" || message.type === "file.cancel.result") {
              // Everything was sent: an ack now would only cross the end (which the server ignores).
              acking = false;
              channel.release(id);
              chunks.end();
            }
          },
          fail(error) {
            acking = false;
            channel.release(id);
            chunks.fail(error);
          },
        },
      );
      if (!opened) chunks.fail(new BunkerError("connection_closed", `the connection closed before the download of ${JSON.stringify(path)} was sent`));
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          // The loop came back: the chunk it had is consumed.
          acknowledge();
          const result = await chunks.next();
          if (!result.done) delivered += result.value.byteLength;
          return result;
        },
        async return(): Promise<IteratorResult<Uint8Array>> {
          acking = false;
          if (chunks.open) {
            // The cancel's result (or an error, if it was done meanwhile) is all that follows.
            chunks.end();
            chunks.clear();
            channel.send({ type: "file.cancel", id });
          }
          return { value: undefined, done: true };
        },
      };
    },
  };
}
