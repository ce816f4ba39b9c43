import type { ClientMessage, ExecInfo, FileReply, OutputHeader, ServerMessage } from "../protocol/index.ts";
import { MAX_OPEN_FILE_HANDLES, MAX_QUEUED_FILE_REQUESTS } from "../protocol/limits.ts";
import { decodeBase64 } from "./base64.ts";
import { BunkerError } from "./errors.ts";
import type { ClientExecHandle } from "./exec-handle.ts";
import { FILE_ID_PREFIX } from "./exec-ids.ts";
import type { FileStreamHandler } from "./file-channel.ts";
import { PendingRequests } from "./pending-requests.ts";
import { RequestSlots } from "./request-slots.ts";

const encoder = new TextEncoder();

type Dispatched = Exclude<ServerMessage, FileReply>;

function isFileReply(message: ServerMessage): message is FileReply {
  return message.type.startsWith("file.");
}

/** What the router needs from its session. */
export interface MessageRouterHost {
  /** Sends a message; false when the connection is not open. */
  send(message: ClientMessage): boolean;
  /** Closes the connection because the server broke the protocol. */
  violate(problem: string): void;
  /** An `error` that nothing on this connection waits for: the session's `onError`. */
  onError(error: BunkerError): void;
  /** The session's view secret was revoked (`view.revoked`): this is the one that joins now. */
  viewSecretChanged(viewSecret: string): void;
}

/**
 * Where the server's messages on one connection go: to the exec handle, the file stream or the
 * pending request of their id, or else to `onError`. The session fills these tables as it sends;
 * an entry leaves once its exec or request is over, and all of them fail when the socket closes.
 */
export class MessageRouter {
  /** The execs this connection follows, by id. */
  readonly execs = new Map<string, ClientExecHandle>();
  /** What this connection last heard of each exec of the session (`hello`, `list`, `state`). */
  readonly known = new Map<string, ExecInfo>();
  /** Uploads, downloads and watches of this connection, by request id: they get many replies each. */
  readonly fileStreams = new Map<string, FileStreamHandler>();
  readonly requests = new PendingRequests();
  /** File requests within the server's queue, which also holds the opens of uploads, downloads and watches; the rest wait here. */
  readonly fileRequestSlots = new RequestSlots(MAX_QUEUED_FILE_REQUESTS - MAX_OPEN_FILE_HANDLES);
  #fileRequests = 0;

  constructor(private readonly host: MessageRouterHost) {}

  /**
   * The server told the session's execs as they are now (`hello`, `execs`): those it no longer
   * names it has forgotten, and so does the client. Kept, every exec ever told of stayed, with its
   * request, for the session's life (~1 MB per large command, found by a soak).
   */
  heardExecs(execs: readonly ExecInfo[]): void {
    this.known.clear();
    for (const info of execs) this.known.set(info.id, info);
  }

  /** A fresh file request id of this connection (`file:<n>`). */
  nextFileId(): string {
    return `${FILE_ID_PREFIX}${++this.#fileRequests}`;
  }

  /** Delivers one decoded text message. */
  route(message: ServerMessage): void {
    if (isFileReply(message)) {
      const stream = this.fileStreams.get(message.id);
      if (stream) return stream.reply(message);
      return void this.requests.resolve(message.id, message);
    }
    this.#routeExecMessage(message);
  }

  /** Delivers one binary output chunk, paired with its header. */
  routeOutput(header: OutputHeader, bytes: Uint8Array): void {
    this.execs.get(header.id)?.onOutput(header.stream, header.offset, bytes, true);
  }

  /** The session is over: every exec, request and stream still waiting fails with `error`, file requests not yet sent too. */
  failAll(error: BunkerError, closeCode: number): void {
    for (const handle of this.execs.values()) handle.fail(new BunkerError(error.code, error.message, { execId: handle.id, closeCode, cause: error.cause }));
    this.execs.clear();
    this.fileRequestSlots.failWaiting(error);
    this.requests.rejectAll(error);
    this.failFileStreams(error);
  }

  /** Every upload, download and watch fails with `error`. */
  failFileStreams(error: BunkerError): void {
    for (const stream of [...this.fileStreams.values()]) stream.fail(error);
    this.fileStreams.clear();
  }

  #routeExecMessage(message: Dispatched): void {
    switch (message.type) {
      case "hello":
        return;
      case "started": {
        const handle = this.execs.get(message.id);
        if (handle) return handle.onStarted(message);
        // Another socket's exec: every joined socket is subscribed at its start. Following it
        // unasked would pace it (and with an ack window, stall it), so this socket lets go.
        this.host.send({ type: "detach", id: message.id });
        return;
      }
      case "output": {
        const handle = this.execs.get(message.id);
        if (!handle) return;
        if (!handle.jsonDataIsBase64) return handle.onOutput(message.stream, message.offset, encoder.encode(message.data), false, message.bytes);
        const bytes = decodeBase64(message.data);
        if (!bytes) return this.host.violate(`output: data of exec ${JSON.stringify(message.id)} is not base64`);
        return handle.onOutput(message.stream, message.offset, bytes, true);
      }
      case "gap":
        return this.execs.get(message.id)?.onGap(message.stream, message.from, message.to);
      case "exit": {
        const { type: _type, id, ...facts } = message;
        this.execs.get(id)?.onExit(facts);
        this.execs.delete(id);
        return;
      }
      case "state": {
        this.known.set(message.exec.id, message.exec);
        const handle = this.execs.get(message.id);
        handle?.onState(message.exec);
        if (handle && !handle.live) this.execs.delete(message.id);
        return;
      }
      case "view.revoked":
        this.host.viewSecretChanged(message.viewSecret);
        if (message.id !== undefined) this.requests.resolve(message.id, message);
        return;
      case "execs":
      case "pong":
        if (message.id !== undefined) this.requests.resolve(message.id, message);
        return;
      case "closed":
        // The server closes the socket with 4000 next.
        this.requests.resolve("close", message);
        return;
      case "error":
        return this.#routeError(message.code, message.message, message.id);
      case "stdin.ack":
        return this.execs.get(message.id)?.onStdinAck(message);
      case "resized":
        return this.execs.get(message.id)?.onResized({ cols: message.cols, rows: message.rows });
      default: {
        const unreachable: never = message;
        return unreachable;
      }
    }
  }

  #routeError(code: string, text: string, id: string | undefined): void {
    const fileRequest = id !== undefined && this.#isFileId(id);
    // A file request's id names no exec.
    const error = new BunkerError(code, text, id === undefined || fileRequest ? {} : { execId: id });
    const stream = id === undefined ? undefined : this.fileStreams.get(id);
    if (stream) return stream.fail(error);
    const handle = id === undefined ? undefined : this.execs.get(id);
    if (handle) {
      handle.onError(error);
      if (!handle.live) this.execs.delete(handle.id);
      return;
    }
    if (this.requests.reject(id, error)) return;
    // A late answer to a transfer of this connection that has ended: upload chunks that were in
    // flight when the upload failed, a cancel or an unwatch that crossed the transfer's own end. Its
    // promise has settled already; it concerns nobody else.
    if (fileRequest && code === "unknown_transfer") return;
    this.host.onError(error);
  }

  /** Whether `id` is one this connection gave a file request (`file:<n>`). */
  #isFileId(id: string): boolean {
    if (!id.startsWith(FILE_ID_PREFIX)) return false;
    const count = Number(id.slice(FILE_ID_PREFIX.length));
    return Number.isInteger(count) && count >= 1 && count <= this.#fileRequests;
  }
}
