import type { FileReply } from "../protocol/index.ts";
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
}

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
 * file, not its memory; chunks the client has received and not yet iterated wait here (the protocol
 * has no credit for downloads: a slow iteration holds up to the whole file in the client). Breaking
 * out of the loop cancels the download.
 */
export function downloadFile(channel: FileChannel, path: string, options: DownloadOptions): FileDownload {
  let ready: DownloadReady | undefined;
  return {
    get ready() {
      return ready;
    },
    [Symbol.asyncIterator]() {
      const id = channel.nextId();
      ready = undefined;
      const chunks = new ReplyQueue<Uint8Array>();
      const opened = channel.open(
        {
          type: "file.download",
          id,
          path,
          ...(options.offset !== undefined && { offset: options.offset }),
          ...(options.length !== undefined && { length: options.length }),
          ...(options.ifRange !== undefined && { ifRange: options.ifRange }),
        },
        {
          reply(message: FileReply) {
            if (message.type === "file.download.ready") {
              ready = { size: message.size, offset: message.offset, length: message.length, etag: message.etag };
            } else if (message.type === "file.download.chunk") {
              const bytes = decodeBase64(message.data);
              if (!bytes) return this.fail(new BunkerError("protocol_violation", `file.download.chunk of ${JSON.stringify(path)} is not base64`));
              chunks.push(bytes);
            } else if (message.type === "file.download.done" || message.type === "file.cancel.result") {
              channel.release(id);
              chunks.end();
            }
          },
          fail(error) {
            channel.release(id);
            chunks.fail(error);
          },
        },
      );
      if (!opened) chunks.fail(new BunkerError("connection_closed", `the connection closed before the download of ${JSON.stringify(path)} was sent`));
      return {
        next: () => chunks.next(),
        async return(): Promise<IteratorResult<Uint8Array>> {
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
