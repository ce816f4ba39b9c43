import type { FileEntry, FileReply, FileRequest } from "../protocol/index.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { BunkerError } from "./errors.ts";
import { describeKind } from "./bytes-argument.ts";
import { concatBytes } from "./concat-bytes.ts";
import type { FileChannel } from "./file-channel.ts";
import { rawBytesPerMessage } from "./message-bytes.ts";
import { downloadFile, type DownloadOptions, type FileDownload } from "./file-download.ts";
import { uploadFile, type UploadOptions } from "./file-upload.ts";
import { watchDirectory, type FileWatch, type WatchOptions } from "./file-watch.ts";

/** Options of `files.read` and `files.readBytes`. */
export interface ReadOptions {
  /** First byte (default 0). At the end of the file a read gives nothing; past it, `bad_message`. */
  offset?: number;
  /** Bytes wanted (default: to the end). */
  length?: number;
}

/** Options of `files.list`. */
export interface ListOptions {
  /** 1: the directory's own entries (default); 2: and those of its subdirectories; up to 64. */
  depth?: number;
}

/** Options of `files.mkdir`. */
export interface MkdirOptions {
  /** Make missing parents and accept an existing directory, as `mkdir -p` (default true). */
  parents?: boolean;
  /** Permission bits (default 0755). */
  mode?: number;
}

/** Options of `files.move`. */
export interface MoveOptions {
  /** Replace an existing `to` (a directory only by an empty one). Default false: `exists`. */
  overwrite?: boolean;
  /** Create `to`'s missing parents (default false). */
  parents?: boolean;
}

/** Options of `files.remove`. */
export interface RemoveOptions {
  /** Remove a directory and everything under it (default false: `is_directory`). */
  recursive?: boolean;
}

/** How much the workspace holds, as a stat of the workspace itself reports it. */
export interface WorkspaceUsage {
  /** Bytes in the workspace's regular files. */
  usedBytes: number;
  /** The server's `--workspace-quota-bytes`; null when there is none. */
  quotaBytes: number | null;
}

/** What `files.stat` resolves with: the entry, and for the workspace itself (`"."`) its usage. */
export type FileStat = FileEntry & { usage?: WorkspaceUsage };

/** What `files.list` resolves with: the entries, and whether the server cut the listing short (at 10,000 entries). */
export type FileList = FileEntry[] & { truncated: boolean };

/** Options of `files.write`. */
export interface WriteOptions {
  /** `"overwrite"` (default, atomic), `"fail"` (refuse an existing file) or `"append"`. */
  ifExists?: "overwrite" | "fail" | "append";
  /** Create missing parent directories (default true). */
  parents?: boolean;
  /** Permission bits of a new file (default 0644). */
  mode?: number;
}

/**
 * The workspace's files (PROTOCOL.md, Files), confined to it by the server. Paths are relative to
 * the workspace (an absolute path inside it works too). Failures reject with a `BunkerError`
 * whose `code` is the server's (`not_found`, `path_outside_workspace`, `is_directory`, ...).
 */
export interface SessionFiles {
  /** A path's metadata; a symlink is described, not followed. For the workspace itself (`"."`), its `usage` too. */
  stat(path: string): Promise<FileStat>;
  /** Whether something is at `path` (a dangling symlink counts). */
  exists(path: string): Promise<boolean>;
  /** A directory's entries, `depth` levels down (default 1), in pre-order; `truncated` when the server stopped at 10,000. */
  list(path: string, options?: ListOptions): Promise<FileList>;
  /** A file's bytes (all of it, or `length` from `offset`) decoded as UTF-8. */
  read(path: string, options?: ReadOptions): Promise<string>;
  /** A file's bytes, all of it or `length` from `offset`, from one version of the file. */
  readBytes(path: string, options?: ReadOptions): Promise<Uint8Array>;
  /** Writes a whole file atomically (or appends); large data goes as an upload. Resolves with the file's entry. */
  write(path: string, data: string | Uint8Array, options?: WriteOptions): Promise<FileEntry>;
  /** Makes a directory, parents included as `mkdir -p` does unless `parents: false`; true when it made it, false when one was there. */
  mkdir(path: string, options?: MkdirOptions): Promise<boolean>;
  /** Renames `from` to `to`; an existing `to` is refused unless `overwrite`. */
  move(from: string, to: string, options?: MoveOptions): Promise<FileEntry>;
  /** Removes a file, a symlink, or (with `recursive`) a directory and what it holds. */
  remove(path: string, options?: RemoveOptions): Promise<void>;
  /** Uploads a file of any size in chunks, with the server's credit window; it appears whole at the end. */
  upload(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, options?: UploadOptions): Promise<FileEntry>;
  /**
   * A file's bytes as they arrive, in chunks, at most `ackWindowBytes` (4 MiB) ahead of the loop;
   * `offset` (with `ifRange`) resumes, and `ready` says what the server sends.
   */
  download(path: string, options?: DownloadOptions): FileDownload;
  /** Watches a directory (`recursive` for its whole tree); events come in batches the iteration unrolls. */
  watch(path: string, options?: WatchOptions): Promise<FileWatch>;
}

/** A file request before its id is given (Omit over each member of the union). */
type RequestWithoutId = FileRequest extends infer Request ? (Request extends unknown ? Omit<Request, "id"> : never) : never;

/** What one `file.read` may return (the server's cap). */
const MAX_READ_BYTES = 1024 * 1024;

const encoder = new TextEncoder();
// ignoreBOM: a file that starts with a byte-order mark reads with it, as it is on disk.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** The file methods of a session, over its channel. */
export function createSessionFiles(channel: FileChannel): SessionFiles {
  const ask = async <T extends FileReply["type"]>(request: RequestWithoutId, replyType: T): Promise<Extract<FileReply, { type: T }>> => {
    const reply = await channel.request({ ...request, id: channel.nextId() } as FileRequest);
    if (reply.type !== replyType) throw new BunkerError("protocol_violation", `expected ${replyType}, got ${reply.type}`);
    return reply as Extract<FileReply, { type: T }>;
  };

  const readBytes = async (path: string, options: ReadOptions = {}): Promise<Uint8Array> => {
    const offset = options.offset ?? 0;
    const wanted = options.length;
    if (wanted === undefined || wanted <= MAX_READ_BYTES) {
      const first = await ask({ type: "file.read", path, offset, length: wanted ?? MAX_READ_BYTES, encoding: "base64" }, "file.read.result");
      const head = decodeBase64(first.data);
      if (!head) throw new BunkerError("protocol_violation", `file.read.result of ${JSON.stringify(path)} is not base64`);
      if (first.eof || wanted !== undefined) return head;
    }
    // More than one read holds: all of it comes as one download. Its bytes are of the one version of
    // the file it opened, where a download of the rest after a read spliced two versions when the
    // file was replaced in between (and failed with bad_message when it had shrunk).
    const parts: Uint8Array[] = [];
    for await (const part of downloadFile(channel, path, { offset, ...(wanted !== undefined && { length: wanted }) })) parts.push(part);
    return concatBytes(parts);
  };

  const write = async (path: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<FileEntry> => {
    // Anything else (an ArrayBuffer, an array of numbers) went on as bytes it was not, and made an
    // empty or zero-filled file that the write reported as written.
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError(`files.write: data must be a string or a Uint8Array, got ${describeKind(data)}`);
    }
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const common = { ...(options.parents !== undefined && { parents: options.parents }), ...(options.mode !== undefined && { mode: options.mode }) };
    // Data that fits one message (256 KiB at the default frame limit) goes as one `file.write`;
    // the path travels in it too (4096 characters at most, escaped in JSON).
    const frame = channel.maxFrameBytes;
    const oneMessage = rawBytesPerMessage(frame === undefined ? undefined : frame - JSON.stringify(path).length);
    if (bytes.byteLength <= oneMessage) {
      const reply = await ask(
        { type: "file.write", path, data: encodeBase64(bytes), encoding: "base64", ...(options.ifExists !== undefined && { ifExists: options.ifExists }), ...common },
        "file.write.result",
      );
      return reply.entry;
    }
    if (options.ifExists !== "append") return uploadFile(channel, path, bytes, { ...(options.ifExists !== undefined && { ifExists: options.ifExists }), ...common });
    // An upload replaces; a large append goes as appends of one message each, in order.
    let entry: FileEntry | undefined;
    for (let start = 0; start < bytes.byteLength; start += oneMessage) {
      entry = await write(path, bytes.subarray(start, start + oneMessage), options);
    }
    return entry!;
  };

  return {
    async stat(path) {
      const reply = await ask({ type: "file.stat", path }, "file.stat.result");
      return reply.usage ? { ...reply.entry, usage: reply.usage } : reply.entry;
    },
    async exists(path) {
      try {
        await ask({ type: "file.stat", path }, "file.stat.result");
        return true;
      } catch (error) {
        // Nothing can be below a file either (`file.txt/x`): false, as E2B's exists and test -e say,
        // where the server's not_directory was thrown (found by a review).
        if (error instanceof BunkerError && (error.code === "not_found" || error.code === "not_directory")) return false;
        throw error;
      }
    },
    async list(path, options = {}) {
      const reply = await ask({ type: "file.list", path, ...(options.depth !== undefined && { depth: options.depth }) }, "file.list.result");
      return Object.assign(reply.entries, { truncated: reply.truncated });
    },
    async read(path, options) {
      return decoder.decode(await readBytes(path, options));
    },
    readBytes,
    write,
    async mkdir(path, options = {}) {
      const reply = await ask({ type: "file.mkdir", path, parents: options.parents ?? true, ...(options.mode !== undefined && { mode: options.mode }) }, "file.mkdir.result");
      return reply.created;
    },
    async move(from, to, options = {}) {
      const reply = await ask(
        { type: "file.move", from, to, ...(options.overwrite !== undefined && { overwrite: options.overwrite }), ...(options.parents !== undefined && { parents: options.parents }) },
        "file.move.result",
      );
      return reply.entry;
    },
    async remove(path, options = {}) {
      await ask({ type: "file.remove", path, ...(options.recursive !== undefined && { recursive: options.recursive }) }, "file.remove.result");
    },
    upload(path, data, options = {}) {
      return uploadFile(channel, path, data, options);
    },
    download(path, options = {}) {
      return downloadFile(channel, path, options);
    },
    watch(path, options = {}) {
      return watchDirectory(channel, path, options);
    },
  };
}
