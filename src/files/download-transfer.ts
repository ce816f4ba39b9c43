import type { FileRequestOf } from "../protocol/index.ts";
import { openDownloadWindow } from "./download-reader.ts";
import { toFileError } from "./file-error.ts";
import { clientPath, type FileScope } from "./file-scope.ts";
import type { TransferPeer } from "./upload-transfer.ts";

/** An open download on one connection. */
export interface DownloadTransfer {
  /** Sends `file.download.ready` and starts sending chunks: call once the transfer is registered. */
  begin(): void;
  cancel(): void;
  close(): void;
}

/**
 * Opens a download (the whole file, from 0, when `ifRange` names another version than the one
 * opened); begin() replies `file.download.ready` with the version's tag, then sends
 * `file.download.chunk`s (base64, `chunkBytes` raw each) and `file.download.done`. Before each read
 * it waits while the connection is congested, so a slow reader holds the file, not the server's memory.
 */
export async function startDownload(
  scope: FileScope,
  message: FileRequestOf<"file.download">,
  peer: TransferPeer,
  congestion: () => Promise<void> | undefined,
): Promise<DownloadTransfer> {
  const { id } = message;
  const path = clientPath(scope, message.path);
  const { reader, entityTag } = await openDownloadWindow(scope, path, message);
  let stopped = false;
  const stop = () => {
    stopped = true;
    reader.close();
    peer.ended();
  };

  const pump = async () => {
    // One buffer for the whole download: each chunk is encoded to base64 before the next read.
    const buffer = Buffer.allocUnsafe(Math.min(scope.limits.chunkBytes, Math.max(1, reader.length)));
    for (;;) {
      const congested = congestion();
      if (congested) await congested;
      if (stopped) return;
      const offset = reader.offset + reader.position;
      const bytes = await reader.read(scope.limits.chunkBytes, buffer);
      if (stopped) return;
      if (bytes === null) break;
      peer.send({ type: "file.download.chunk", id, offset, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") });
    }
    const bytes = reader.position;
    stop();
    peer.send({ type: "file.download.done", id, offset: reader.offset + bytes, bytes });
  };

  return {
    begin() {
      peer.send({ type: "file.download.ready", id, size: reader.size, offset: reader.offset, length: reader.length, etag: entityTag });
      pump().catch((error: unknown) => {
        if (stopped) return;
        stop();
        const failure = toFileError(error, `download ${path.label}`);
        peer.sendError(failure.code, failure.message, id);
      });
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
