import type { ErrorCode, FileRequestOf } from "../protocol/index.ts";
import { openDownloadWindow } from "./download-reader.ts";
import { toFileError } from "./file-error.ts";
import { clientPath, type FileScope } from "./file-scope.ts";
import type { TransferPeer } from "./upload-transfer.ts";

/** An open download on one connection. */
export interface DownloadTransfer {
  /** Sends `file.download.ready` and starts sending chunks: call once the transfer is registered. */
  begin(): void;
  /** The client consumed the download up to `offset` (`file.download.ack`); a bad offset ends it. */
  ack(offset: number): void;
  cancel(): void;
  close(): void;
}

/**
 * Opens a download (the whole file, from 0, when `ifRange` names another version than the one
 * opened); begin() replies `file.download.ready` with the version's tag, then sends
 * `file.download.chunk`s (base64, `chunkBytes` raw each) and `file.download.done`. Before each read
 * it waits while the connection is congested, so a slow reader holds the file, not the server's memory.
 * With `ackWindowBytes` it also waits while that many bytes are sent and not acknowledged (a chunk
 * is cut to the room left), so a client that reads its socket at once still holds at most a window.
 */
export async function startDownload(
  scope: FileScope,
  message: FileRequestOf<"file.download">,
  peer: TransferPeer,
  congestion: () => Promise<void> | undefined,
): Promise<DownloadTransfer> {
  const { id, ackWindowBytes } = message;
  const path = clientPath(scope, message.path);
  const { reader, entityTag } = await openDownloadWindow(scope, path, message);
  /** File offsets: the end of what was sent, and of what the client acknowledged. */
  let sent = reader.offset;
  let acked = reader.offset;
  let stopped = false;
  /** Wakes the pump while it waits for an ack. */
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    reader.close();
    peer.ended();
    wake?.();
  };
  const fail = (code: ErrorCode, text: string) => {
    if (stopped) return;
    stop();
    peer.sendError(code, text, id);
  };

  /** Raw bytes the next chunk may carry: a whole chunk, or what the ack window has room for. */
  const room = () => Math.min(scope.limits.chunkBytes, ackWindowBytes === undefined ? Infinity : ackWindowBytes - (sent - acked));

  const pump = async () => {
    // One buffer for the whole download: each chunk is encoded to base64 before the next read.
    const buffer = Buffer.allocUnsafe(Math.min(scope.limits.chunkBytes, Math.max(1, reader.length)));
    while (reader.position < reader.length) {
      const congested = congestion();
      if (congested) await congested;
      if (stopped) return;
      if (room() <= 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        if (stopped) return;
        // The socket may have filled meanwhile: look at it again.
        continue;
      }
      const bytes = await reader.read(room(), buffer);
      if (stopped) return;
      if (bytes === null) break;
      peer.send({ type: "file.download.chunk", id, offset: sent, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") });
      sent += bytes.byteLength;
    }
    const bytes = reader.position;
    stop();
    peer.send({ type: "file.download.done", id, offset: reader.offset + bytes, bytes });
  };

  return {
    begin() {
      const ready = { type: "file.download.ready", id, size: reader.size, offset: reader.offset, length: reader.length, etag: entityTag } as const;
      peer.send(ackWindowBytes === undefined ? ready : { ...ready, ackWindowBytes });
      pump().catch((error: unknown) => {
        if (stopped) return;
        const failure = toFileError(error, `download ${path.label}`);
        fail(failure.code, failure.message);
      });
    },
    ack(offset) {
      if (stopped) return;
      if (offset < reader.offset) return fail("bad_message", `offset: ${offset} is before ${reader.offset}, where the download starts`);
      if (offset < acked) return fail("bad_message", `offset: ${offset} is below ${acked}, which an earlier file.download.ack acknowledged`);
      if (offset > sent) return fail("bad_message", `offset: ${offset} is past ${sent}, the end of what the download has sent`);
      acked = offset;
      wake?.();
    },
    cancel() {
      if (stopped) return;
      stop();
      peer.send({ type: "file.cancel.result", id });
    },
    close() {
      if (!stopped) stop();
    },
  };
}
