import type { ErrorCode, FileReply, FileRequest, FileRequestOf } from "../protocol/index.ts";
import { startDownload, type DownloadTransfer } from "../files/download-transfer.ts";
import { FileError, toFileError } from "../files/file-error.ts";
import { clientPath, createFileScope, type FileScope } from "../files/file-scope.ts";
import type { FileLimits } from "../files/limits.ts";
import type { PathScheme } from "../files/platform/index.ts";
import { answerSimpleRequest, isSimpleRequest } from "../files/simple-requests.ts";
import { startUpload, type TransferPeer, type UploadTransfer } from "../files/upload-transfer.ts";
import { watchTree } from "../files/watch-tree.ts";
import type { WatchBudget } from "../files/watch-budget.ts";

/** What the file handler of one connection may use. */
export interface FileContext {
  /** Real path of the session's workspace. */
  readonly workspace: string;
  /** uid and gid that sandboxed commands run as; files the server creates get this owner. undefined: leave as is. */
  readonly owner: { uid: number; gid: number } | undefined;
  /** Workspace quota in bytes (`--workspace-quota-bytes`); undefined: none. */
  readonly quotaBytes: number | undefined;
  /** Sizes and counts; undefined fields take DEFAULT_FILE_LIMITS. */
  readonly limits?: Partial<FileLimits> | undefined;
  /** Paths commands may not change (ServerOptions.protectPaths): no symlink steers a change into them. */
  readonly protectPaths?: readonly string[] | undefined;
  /** Only tests choose; otherwise the platform's (src/files/platform/index.ts). */
  readonly pathScheme?: PathScheme | undefined;
  /** The session's count of watched directories (which takes from the server's); undefined: only the per-watch limit. */
  readonly watchBudget?: WatchBudget | undefined;
  /** Sends one reply on this connection. */
  send(message: FileReply): void;
  sendError(code: ErrorCode, message: string, id?: string): void;
  /** A promise that settles when this connection can take more, or undefined when it can now. */
  congestion(): Promise<void> | undefined;
}

/** Serves the file requests of one connection. */
export interface FileHandler {
  handle(message: FileRequest): void;
  /** The connection closed: stop transfers and watches. */
  close(): void;
}

/** An upload, download or watch open on this connection, by the id of the request that opened it. */
type OpenHandle =
  | { kind: "upload"; transfer: UploadTransfer }
  | ({ kind: "download" } & DownloadTransfer)
  | { kind: "watch"; begin(): void; cancel(): void; close(): void };

type OpeningRequest = FileRequestOf<"file.upload" | "file.download" | "file.watch">;

/**
 * An upload, download or watch request from its arrival until it is open (or failed). A
 * `file.cancel` or `file.unwatch` that arrives meanwhile marks it `stopped`: it is then opened and
 * at once ended, without a ready, instead of being refused and going on.
 */
interface PendingOpen {
  readonly type: OpeningRequest["type"];
  stopped: boolean;
}

const isOpeningRequest = (message: FileRequest): message is OpeningRequest =>
  message.type === "file.upload" || message.type === "file.download" || message.type === "file.watch";

/**
 * One connection's file requests. Requests run one at a time in arrival order (a write then a read
 * of the same file sees the write); uploads, downloads and watches, once ready, go on beside the
 * queue. Upload chunks, download acks, `file.cancel` and `file.unwatch` act at once; a cancel or
 * unwatch of a request still waiting for its turn ends it as soon as it is open, before its ready.
 * Everything open is released in close().
 */
/** How many ended downloads a connection remembers, to ignore acks that crossed their `done`. */
const ENDED_DOWNLOADS_REMEMBERED = 32;

export function createFileHandler(context: FileContext): FileHandler {
  const scope: FileScope = createFileScope({
    workspace: context.workspace,
    owner: context.owner,
    quotaBytes: context.quotaBytes,
    limits: context.limits,
    protectPaths: context.protectPaths,
    scheme: context.pathScheme,
  });
  const handles = new Map<string, OpenHandle | "starting">();
  const pending = new Map<string, PendingOpen[]>();
  /**
   * Downloads that ended lately, oldest first. The server sends `done` without waiting for acks, so
   * a client's ack of the last chunks crosses it on the wire: such an ack is not a mistake, and is
   * ignored rather than answered with `unknown_transfer`.
   */
  const endedDownloads = new Set<string>();
  let queue: Promise<void> = Promise.resolve();
  let queued = 0;
  let closed = false;

  const send = (reply: FileReply) => {
    if (!closed) context.send(reply);
  };
  const sendError = (code: ErrorCode, text: string, id: string) => {
    if (!closed) context.sendError(code, text, id);
  };

  const open = async (message: OpeningRequest, record: PendingOpen) => {
    const { id } = message;
    if (handles.has(id)) throw new FileError("duplicate_id", `an upload, download or watch with id ${JSON.stringify(id)} is open on this connection`);
    if (handles.size >= scope.limits.maxOpenHandles) {
      throw new FileError("limit_exceeded", `this connection has ${scope.limits.maxOpenHandles} uploads, downloads and watches open, the most it may`);
    }
    handles.set(id, "starting");
    endedDownloads.delete(id);
    const peer: TransferPeer = {
      send,
      sendError: (code, text) => sendError(code, text, id),
      ended: () => {
        handles.delete(id);
        if (message.type === "file.download") rememberEndedDownload(id);
      },
    };
    let handle: OpenHandle;
    try {
      handle = await startHandle(message, peer);
    } catch (error) {
      handles.delete(id);
      throw error;
    }
    if (closed) return handle.kind === "upload" ? handle.transfer.close() : handle.close();
    handles.set(id, handle);
    if (record.stopped) return stopOpened(id, handle);
    if (handle.kind === "upload") handle.transfer.begin();
    else handle.begin();
  };

  const rememberEndedDownload = (id: string) => {
    endedDownloads.add(id);
    if (endedDownloads.size > ENDED_DOWNLOADS_REMEMBERED) endedDownloads.delete(endedDownloads.values().next().value!);
  };

  /** Ends an open handle on the client's word: an upload's partial file goes, and the result follows. */
  const stopOpened = (id: string, handle: OpenHandle) => {
    if (handle.kind === "upload") return handle.transfer.cancel();
    if (handle.kind === "download") return handle.cancel();
    handle.close();
    handles.delete(id);
    send({ type: "file.unwatch.result", id });
  };

  /** Marks the oldest request of `id` and one of `types` that is not open yet as stopped; false when there is none. */
  const stopPending = (id: string, types: readonly PendingOpen["type"][]): boolean => {
    const record = pending.get(id)?.find((waiting) => !waiting.stopped && types.includes(waiting.type));
    if (record) record.stopped = true;
    return record !== undefined;
  };

  const forgetPending = (id: string, record: PendingOpen) => {
    const records = pending.get(id)?.filter((waiting) => waiting !== record) ?? [];
    if (records.length > 0) pending.set(id, records);
    else pending.delete(id);
  };

  const startHandle = async (message: OpeningRequest, peer: TransferPeer): Promise<OpenHandle> => {
    switch (message.type) {
      case "file.upload":
        return { kind: "upload", transfer: await startUpload(scope, message, peer) };
      case "file.download": {
        const transfer = await startDownload(scope, message, peer, () => context.congestion());
        return { kind: "download", ...transfer };
      }
      case "file.watch": {
        const path = clientPath(scope, message.path);
        const watch = await watchTree(scope, path, {
          recursive: message.recursive ?? false,
          budget: context.watchBudget,
          congestion: () => context.congestion(),
          send: (events, overflow) => send({ type: "file.watch.events", id: message.id, events, ...(overflow && { overflow }) }),
          ended: () => {
            peer.ended();
            send({ type: "file.unwatch.result", id: message.id, gone: true });
          },
        });
        const begin = () => send({ type: "file.watch.ready", id: message.id, path: watch.path });
        return { kind: "watch", begin, cancel: watch.close, close: watch.close };
      }
      default: {
        const unreachable: never = message;
        return unreachable;
      }
    }
  };

  const run = async (message: FileRequest, record: PendingOpen | undefined) => {
    if (closed) return;
    try {
      if (isSimpleRequest(message)) return send(await answerSimpleRequest(scope, message));
      if (isOpeningRequest(message) && record) return await open(message, record);
      throw new FileError("internal", `${message.type} reached the request queue`);
    } catch (error) {
      const failure = toFileError(error, message.type);
      sendError(failure.code, failure.message, message.id);
    } finally {
      if (record) forgetPending(message.id, record);
    }
  };

  const enqueue = (message: FileRequest) => {
    if (queued >= scope.limits.maxQueuedRequests) {
      return sendError("limit_exceeded", `${scope.limits.maxQueuedRequests} file requests already wait on this connection; wait for replies`, message.id);
    }
    queued++;
    let record: PendingOpen | undefined;
    if (isOpeningRequest(message)) {
      record = { type: message.type, stopped: false };
      pending.set(message.id, [...(pending.get(message.id) ?? []), record]);
    }
    queue = queue.then(() => run(message, record)).finally(() => void queued--);
  };

  /** The open handle of `id` when it is of `kind`, else an `unknown_transfer` error. */
  const handleOf = (id: string, kinds: readonly OpenHandle["kind"][]): OpenHandle | undefined => {
    const handle = openHandleOf(id, kinds);
    if (!handle) sendUnknown(id, kinds);
    return handle;
  };

  const sendUnknown = (id: string, kinds: readonly OpenHandle["kind"][]) => {
    const what = kinds.join(" or ");
    sendError("unknown_transfer", `no ${what} with id ${JSON.stringify(id)} is open on this connection`, id);
  };

  /** The open handle of `id` when it is of `kind`, without an error: a cancel may find the request still waiting instead. */
  const openHandleOf = (id: string, kinds: readonly OpenHandle["kind"][]): OpenHandle | undefined => {
    const handle = handles.get(id);
    return handle && handle !== "starting" && kinds.includes(handle.kind) ? handle : undefined;
  };

  return {
    handle(message) {
      if (closed) return;
      switch (message.type) {
        case "file.upload.chunk": {
          const handle = handleOf(message.id, ["upload"]);
          if (handle?.kind === "upload") handle.transfer.chunk(message);
          return;
        }
        case "file.download.ack": {
          if (endedDownloads.has(message.id) && !handles.has(message.id)) return;
          const handle = handleOf(message.id, ["download"]);
          if (handle?.kind === "download") handle.ack(message.offset);
          return;
        }
        case "file.cancel": {
          const handle = openHandleOf(message.id, ["upload", "download"]);
          if (handle?.kind === "upload") return handle.transfer.cancel();
          if (handle?.kind === "download") return handle.cancel();
          if (!stopPending(message.id, ["file.upload", "file.download"])) sendUnknown(message.id, ["upload", "download"]);
          return;
        }
        case "file.unwatch": {
          const handle = openHandleOf(message.id, ["watch"]);
          if (handle) return stopOpened(message.id, handle);
          if (!stopPending(message.id, ["file.watch"])) sendUnknown(message.id, ["watch"]);
          return;
        }
        default:
          return enqueue(message);
      }
    },
    close() {
      closed = true;
      for (const handle of handles.values()) {
        if (handle === "starting") continue;
        if (handle.kind === "upload") handle.transfer.close();
        else handle.close();
      }
      handles.clear();
    },
  };
}
