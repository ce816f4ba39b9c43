import type { ErrorCode, FileReply, FileRequestOf } from "../protocol/index.ts";
import { decodeBase64Input } from "../common/base64-input.ts";
import { toFileError } from "./file-error.ts";
import { clientPath, type FileScope } from "./file-scope.ts";
import { openUpload, type UploadWriter } from "./upload-writer.ts";

/** Where an upload reports to: the connection that opened it. */
export interface TransferPeer {
  send(reply: FileReply): void;
  sendError(code: ErrorCode, message: string, id?: string): void;
  /** The transfer is over (done, failed or cancelled): forget its id. */
  ended(): void;
}

/** An open upload on one connection. */
export interface UploadTransfer {
  /** Sends `file.upload.ready`: call once the transfer is registered, since chunks follow at once. */
  begin(): void;
  chunk(message: FileRequestOf<"file.upload.chunk">): void;
  cancel(): void;
  /** The connection closed: the partial file stays for a resume. */
  close(): void;
}

/**
 * Opens an upload; begin() replies `file.upload.ready`. Flow control is by credit: the client may send
 * at most `windowBytes` past the last `file.upload.ack`, and each chunk is acked once written, so the
 * bytes waiting in the server never exceed the window. A client that sends past it, out of order or
 * too large a chunk ends the upload with an error.
 */
export async function startUpload(scope: FileScope, message: FileRequestOf<"file.upload">, peer: TransferPeer): Promise<UploadTransfer> {
  const { id } = message;
  const path = clientPath(scope, message.path);
  const writer: UploadWriter = await openUpload(scope, path, {
    key: id,
    offset: message.offset ?? 0,
    size: message.size,
    ifExists: message.ifExists ?? "overwrite",
    parents: message.parents ?? true,
    mode: message.mode,
  });
  const { chunkBytes, windowBytes } = scope.limits;
  let received = writer.offset;
  let acked = writer.offset;
  let ended = false;
  /** The eof chunk came: the upload is committing, and takes no more bytes. */
  let sealed = false;
  let writes: Promise<void> = Promise.resolve();

  // The id stays taken until the partial file is dealt with, and the reply comes after: a client
  // that reuses the id once it has the reply never meets the old upload's cleanup.
  const end = async (keepPartial: boolean) => {
    ended = true;
    await writer.abandon(keepPartial);
    peer.ended();
  };
  const fail = (code: ErrorCode, text: string) => {
    if (ended) return;
    void end(false).then(() => peer.sendError(code, text, id));
  };

  return {
    begin() {
      peer.send({ type: "file.upload.ready", id, offset: writer.offset, chunkBytes, windowBytes });
    },
    chunk(chunk) {
      if (ended) return;
      if (sealed) return peer.sendError("bad_message", `the upload already had its last chunk (eof) at ${received} bytes`, id);
      if (chunk.offset !== received) return fail("bad_message", `offset: ${chunk.offset}, but the upload expects its next bytes at ${received}`);
      const decoded = decodeBase64Input(chunk.data, "data");
      if (!decoded.ok) return fail("bad_message", decoded.problem);
      const bytes = decoded.bytes;
      if (bytes.length > chunkBytes) return fail("too_large", `data: ${bytes.length} bytes in one chunk, more than the ${chunkBytes} an upload chunk may carry`);
      if (received + bytes.length - acked > windowBytes) {
        return fail("limit_exceeded", `the client sent ${received + bytes.length - acked} bytes past the last ack, more than the window of ${windowBytes}`);
      }
      received += bytes.length;
      const eof = chunk.eof === true;
      sealed = eof;
      writes = writes.then(async () => {
        if (ended) return;
        try {
          await writer.write(bytes);
          if (ended) return;
          if (!eof) {
            acked = writer.offset;
            return peer.send({ type: "file.upload.ack", id, offset: acked });
          }
          const entry = await writer.commit();
          ended = true;
          peer.ended();
          peer.send({ type: "file.upload.done", id, entry });
        } catch (error) {
          const failure = toFileError(error, `upload ${path.label}`);
          fail(failure.code, failure.message);
        }
      });
    },
    cancel() {
      if (ended) return;
      void end(false).then(() => peer.send({ type: "file.cancel.result", id }));
    },
    close() {
      if (!ended) void end(true);
    },
  };
}
