import { constants, type BigIntStats } from "node:fs";
import { FileError, toFileError } from "./file-error.ts";
import { fstatExactFd, readAt } from "./fs-calls.ts";
import type { FileScope } from "./file-scope.ts";
import { fileValidatorsOf, isRangeStillValid } from "./http-validators.ts";
import { openContentFile } from "./open-content.ts";
import { assertOffsetInFile } from "./read-file.ts";
import type { ClientPath } from "./workspace-path.ts";

/** A file being read in chunks: the whole of it, or the window set before the first read. */
export interface DownloadReader {
  /** The file's size when it was opened. */
  readonly size: number;
  readonly offset: number;
  /** Bytes this download covers. */
  readonly length: number;
  /** Bytes read so far. */
  readonly position: number;
  /** Narrows the download to `length` bytes (to the end when undefined) from `offset`; `bad_message` past the end. */
  setWindow(offset: number, length: number | undefined): void;
  /**
   * The next chunk of at most `maxBytes`, or null once `length` bytes are read or the file ends
   * early. With `into`, the chunk is read into (and is a view of) that buffer, which the caller
   * reuses; otherwise into a new one.
   */
  read(maxBytes: number, into?: Buffer): Promise<Uint8Array | null>;
  /** fstat of the open file, times in nanoseconds: HTTP's validators describe what is served. */
  statExactly(): Promise<BigIntStats>;
  close(): void;
}

/** Opens a download; the checks are openContentFile's, the same for WebSocket and HTTP. */
export async function openDownload(scope: FileScope, path: ClientPath): Promise<DownloadReader> {
  const { label } = path;
  const file = await openContentFile(scope.root, path, constants.O_RDONLY);
  const size = file.stats.size;
  let offset = 0;
  let length = size;
  let position = 0;
  let closed = false;
  // An fd closed under a read in flight could be reused by another open and read from there, so
  // close waits for the read.
  let reading: Promise<unknown> = Promise.resolve();
  const reader: DownloadReader = {
    size,
    get offset() {
      return offset;
    },
    get length() {
      return length;
    },
    get position() {
      return position;
    },
    setWindow(from, wanted) {
      assertOffsetInFile(from, size, label);
      offset = from;
      length = Math.min(wanted ?? size - from, size - from);
    },
    async read(maxBytes, into) {
      const wanted = Math.min(maxBytes, length - position, into?.length ?? Infinity);
      if (closed || wanted <= 0) return null;
      const buffer = into ?? Buffer.allocUnsafe(wanted);
      const pending = readAt(file.fd, buffer, wanted, offset + position);
      reading = pending.catch(() => {});
      const count = await pending;
      if (count === 0) return null;
      position += count;
      return buffer.subarray(0, count);
    },
    statExactly() {
      return fstatExactFd(file.fd);
    },
    close() {
      if (closed) return;
      closed = true;
      void reading.then(() => file.close());
    },
  };
  if (size > scope.limits.maxTransferBytes) {
    reader.close();
    throw new FileError("too_large", `${label}: ${size} bytes is more than the ${scope.limits.maxTransferBytes} one transfer may carry`);
  }
  return reader;
}

/** What a download asks for: a window of the file, and the version it resumes (see openDownloadWindow). */
interface DownloadWindow {
  readonly offset?: number | undefined;
  readonly length?: number | undefined;
  /** The entity tag of the version an earlier download read. */
  readonly ifRange?: string | undefined;
}

/**
 * openDownload, narrowed to a window at once, with the tag of the version opened (HTTP's `ETag`).
 * When `ifRange` names another version, the window is the whole file, as HTTP's If-Range gives
 * it, so that a resume never splices two versions. Closes the file again when the window is refused.
 */
export async function openDownloadWindow(scope: FileScope, path: ClientPath, window: DownloadWindow): Promise<{ reader: DownloadReader; entityTag: string }> {
  const reader = await openDownload(scope, path);
  try {
    const { entityTag } = fileValidatorsOf(await reader.statExactly());
    if (isRangeStillValid(window.ifRange ?? null, entityTag)) reader.setWindow(window.offset ?? 0, window.length);
    else reader.setWindow(0, undefined);
    return { reader, entityTag };
  } catch (error) {
    reader.close();
    throw toFileError(error, `download ${path.label}`);
  }
}
