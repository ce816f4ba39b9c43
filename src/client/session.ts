import * as v from "valibot";
import {
  AttachMessageSchema,
  CLOSE_CODES,
  describeIssue,
  type ClientMessage,
  type ExecInfo,
  type FileReply,
  type HelloMessage,
  type SandboxInfo,
  type ServerMessage,
} from "../protocol/index.ts";
import { decodeBase64 } from "./base64.ts";
import { createDeferred } from "./deferred.ts";
import { binaryFrameBytes, createBinaryFramePairer, decodeServerText } from "./decode-frame.ts";
import { BunkerError, quiet } from "./errors.ts";
import { ClientExecHandle, type ExecHandle, type ExecTransport } from "./exec-handle.ts";
import { FILE_ID_PREFIX, assertExecIdNotReserved, createExecIdGenerator } from "./exec-ids.ts";
import { DEFAULT_ENCODING, buildExecMessage, type ExecCommand, type ExecOptions } from "./exec-options.ts";
import type { FileStreamHandler } from "./file-channel.ts";
import { createSessionFiles, type SessionFiles } from "./files.ts";
import { startKeepalive, type Keepalive, type KeepaliveOptions } from "./keepalive.ts";
import { rawBytesPerMessage } from "./message-bytes.ts";
import { PendingRequests } from "./pending-requests.ts";
import type { AttachOptions, Session, SessionClosed } from "./session-types.ts";
import { OPEN, dropWebSocket, waitForBufferedBelow, yieldToSocketEvents, type WebSocketLike } from "./websocket.ts";

/** The socket's send queue above which stdin writes wait. */
const SEND_HIGH_WATER_BYTES = 1024 * 1024;
const encoder = new TextEncoder();

type Dispatched = Exclude<ServerMessage, FileReply>;

function isFileReply(message: ServerMessage): message is FileReply {
  return message.type.startsWith("file.");
}

/** The client side of one session over one socket. `connect` makes it once `hello` has arrived. */
export class ClientSession implements Session {
  readonly closed: Promise<SessionClosed>;
  readonly files: SessionFiles;
  readonly #socket: WebSocketLike;
  /** Uploads, downloads and watches of this connection, by request id: they get many replies each. */
  readonly #fileStreams = new Map<string, FileStreamHandler>();
  #fileRequests = 0;
  readonly #execs = new Map<string, ClientExecHandle>();
  readonly #known = new Map<string, ExecInfo>();
  readonly #requests = new PendingRequests();
  readonly #pairer = createBinaryFramePairer();
  readonly #makeId = createExecIdGenerator();
  readonly #transport: ExecTransport;
  readonly #onError: ((error: BunkerError) => void) | undefined;
  readonly #resolveClosed: (closed: SessionClosed) => void;
  #violation: string | undefined;
  readonly #keepalive: Keepalive | undefined;
  /** onClose has run: the socket closed, or the keepalive gave up on it and settled everything. */
  #socketGone = false;

  constructor(
    socket: WebSocketLike,
    readonly hello: HelloMessage,
    onError: ((error: BunkerError) => void) | undefined,
    keepalive?: KeepaliveOptions,
  ) {
    this.#socket = socket;
    this.#onError = onError;
    this.#keepalive = keepalive && this.#startKeepalive(keepalive);
    for (const info of hello.execs) this.#known.set(info.id, info);
    const closed = createDeferred<SessionClosed>();
    this.closed = closed.promise;
    this.#resolveClosed = closed.resolve;
    this.files = createSessionFiles({
      nextId: () => `${FILE_ID_PREFIX}${++this.#fileRequests}`,
      request: (message) => this.#request(message.id, message) as Promise<FileReply>,
      open: (message, handler) => {
        if (!this.#send(message)) return false;
        this.#fileStreams.set(message.id, handler);
        return true;
      },
      send: (message) => this.#send(message),
      release: (id) => void this.#fileStreams.delete(id),
      drained: () => waitForBufferedBelow(socket, SEND_HIGH_WATER_BYTES),
      maxFrameBytes: hello.maxFrameBytes,
    });
    this.#transport = {
      send: (message) => this.#send(message),
      drained: async () => {
        // Lets the exec's `exit` and any refusal in before each stdin message (see yieldToSocketEvents).
        await yieldToSocketEvents();
        await waitForBufferedBelow(socket, SEND_HIGH_WATER_BYTES);
      },
      messageBytes: rawBytesPerMessage(hello.maxFrameBytes),
    };
  }

  get id(): string {
    return this.hello.session;
  }
  get name(): string | undefined {
    return this.hello.name;
  }
  get resumed(): boolean {
    return this.hello.resumed;
  }
  get host(): string {
    return this.hello.host;
  }
  get workspace(): string {
    return this.hello.workspace;
  }
  get sandbox(): SandboxInfo {
    return this.hello.sandbox;
  }
  get resume(): { session: string; secret: string } {
    return { session: this.hello.session, secret: this.hello.resumeSecret };
  }
  /** This socket's id within the session (`resume.replaces` of a later connect); undefined from an older server. */
  get connection(): string | undefined {
    return this.hello.connection;
  }

  exec(command: ExecCommand, options: ExecOptions = {}): ExecHandle {
    const message = buildExecMessage(command, options, this.#makeId);
    assertExecIdNotReserved("exec", message.id);
    if (this.#execs.get(message.id)?.live) throw new TypeError(`exec: id ${JSON.stringify(message.id)} belongs to an exec this session still follows`);
    const handle = new ClientExecHandle(
      { id: message.id, encoding: message.encoding ?? DEFAULT_ENCODING, ackWindowBytes: message.ackWindowBytes, stdinOpen: message.stdin === true || message.pty !== undefined },
      this.#transport,
    );
    this.#follow(handle, message);
    return handle;
  }

  attach(id: string, offsets: { stdout?: number; stderr?: number } = {}, options: AttachOptions = {}): ExecHandle {
    const encoding = options.encoding ?? DEFAULT_ENCODING;
    const message = { type: "attach" as const, id, offsets, encoding, ...(options.ackWindowBytes !== undefined && { ackWindowBytes: options.ackWindowBytes }) };
    const checked = v.safeParse(AttachMessageSchema, message);
    if (!checked.success) throw new TypeError(`attach: ${describeIssue(checked.issues[0])} (got ${JSON.stringify(checked.issues[0].input)})`);
    assertExecIdNotReserved("attach", id);
    if (this.#execs.get(id)?.live) throw new TypeError(`attach: this session already follows exec ${JSON.stringify(id)}`);
    const info = this.#known.get(id);
    const handle = new ClientExecHandle(
      {
        id,
        encoding,
        ackWindowBytes: options.ackWindowBytes,
        stdinOpen: info?.state !== "exited",
        attached: { info, offsets: { stdout: offsets.stdout ?? 0, stderr: offsets.stderr ?? 0 } },
      },
      this.#transport,
    );
    this.#follow(handle, checked.output);
    return handle;
  }

  async list(): Promise<ExecInfo[]> {
    const id = this.#makeId();
    const message = await this.#request(id, { type: "list", id });
    const execs = message.type === "execs" ? message.execs : [];
    for (const info of execs) this.#known.set(info.id, info);
    return execs;
  }

  async close(): Promise<void> {
    if (this.#socket.readyState === OPEN) {
      // Ending the session must not wait behind an ack window that nobody reads any more.
      for (const handle of this.#execs.values()) handle.releaseWindow();
      // A server without `close` answers with an error: closing the socket then ends the session there.
      this.#requests.add("close").catch(() => this.#socket.close(1000));
      this.#send({ type: "close" });
    }
    await this.closed;
  }

  async disconnect(): Promise<void> {
    this.#socket.close(1000);
    await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Takes one frame from the socket. */
  receive(data: unknown): void {
    if (this.#violation !== undefined || this.#socketGone) return;
    this.#keepalive?.received();
    if (typeof data === "string") {
      if (this.#pairer.awaitingPayload) return this.#violate("a text frame arrived between an output header and its payload");
      const result = decodeServerText(data);
      if (result.kind === "message") return this.#dispatch(result.message);
      if (result.kind === "violation") return this.#violate(result.problem);
      return;
    }
    const bytes = binaryFrameBytes(data);
    if (!bytes) return this.#violate("a frame that is neither text nor binary");
    const result = this.#pairer.push(bytes);
    if (result.kind === "violation") return this.#violate(result.problem);
    if (result.kind === "output") this.#execs.get(result.header.id)?.onOutput(result.header.stream, result.header.offset, result.bytes, true);
  }

  /** The socket closed: everything still waiting fails. */
  onClose(code: number, reason: string): void {
    if (this.#socketGone) return;
    this.#socketGone = true;
    this.#keepalive?.stop();
    const error = this.#closedError(code, reason);
    for (const handle of this.#execs.values()) handle.fail(new BunkerError(error.code, error.message, { execId: handle.id, closeCode: code }));
    this.#execs.clear();
    this.#requests.rejectAll(error);
    for (const stream of [...this.#fileStreams.values()]) stream.fail(error);
    this.#fileStreams.clear();
    this.#resolveClosed({ code, reason, ...(this.#violation !== undefined && { violation: this.#violation }) });
  }

  #follow(handle: ClientExecHandle, message: ClientMessage): void {
    this.#execs.set(handle.id, handle);
    if (!this.#send(message)) {
      handle.fail(this.#closedError());
      this.#execs.delete(handle.id);
    }
  }

  /** Sends a request and resolves with its reply; rejects with connection_closed when it cannot be sent. */
  #request(id: string, message: ClientMessage): Promise<ServerMessage> {
    const reply = this.#requests.add(id);
    if (!this.#send(message)) this.#requests.reject(id, this.#closedError());
    return reply;
  }

  #send(message: ClientMessage): boolean {
    if (this.#socket.readyState !== OPEN || this.#socketGone) return false;
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  #dispatch(message: ServerMessage): void {
    if (isFileReply(message)) {
      const stream = this.#fileStreams.get(message.id);
      if (stream) return stream.reply(message);
      return void this.#requests.resolve(message.id, message);
    }
    this.#dispatchExecMessage(message);
  }

  #dispatchExecMessage(message: Dispatched): void {
    switch (message.type) {
      case "hello":
        return;
      case "started": {
        const handle = this.#execs.get(message.id);
        if (handle) return handle.onStarted(message);
        // Another socket's exec: every joined socket is subscribed at its start. Following it
        // unasked would pace it (and with an ack window, stall it), so this socket lets go.
        this.#send({ type: "detach", id: message.id });
        return;
      }
      case "output": {
        const handle = this.#execs.get(message.id);
        if (!handle) return;
        if (!handle.jsonDataIsBase64) return handle.onOutput(message.stream, message.offset, encoder.encode(message.data), false, message.bytes);
        const bytes = decodeBase64(message.data);
        if (!bytes) return this.#violate(`output: data of exec ${JSON.stringify(message.id)} is not base64`);
        return handle.onOutput(message.stream, message.offset, bytes, true);
      }
      case "gap":
        return this.#execs.get(message.id)?.onGap(message.stream, message.from, message.to);
      case "exit": {
        const { type: _type, id, ...facts } = message;
        this.#execs.get(id)?.onExit(facts);
        this.#execs.delete(id);
        return;
      }
      case "state": {
        this.#known.set(message.exec.id, message.exec);
        const handle = this.#execs.get(message.id);
        handle?.onState(message.exec);
        if (handle && !handle.live) this.#execs.delete(message.id);
        return;
      }
      case "execs":
      case "pong":
        if (message.id !== undefined) this.#requests.resolve(message.id, message);
        return;
      case "closed":
        // The server closes the socket with 4000 next.
        this.#requests.resolve("close", message);
        return;
      case "error":
        return this.#routeError(message.code, message.message, message.id);
      case "stdin.ack":
        return this.#execs.get(message.id)?.onStdinAck(message);
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
    const stream = id === undefined ? undefined : this.#fileStreams.get(id);
    if (stream) return stream.fail(error);
    const handle = id === undefined ? undefined : this.#execs.get(id);
    if (handle) {
      handle.onError(error);
      if (!handle.live) this.#execs.delete(handle.id);
      return;
    }
    if (this.#requests.reject(id, error)) return;
    // A late answer to a transfer of this connection that has ended: upload chunks that were in
    // flight when the upload failed, a cancel or an unwatch that crossed the transfer's own end. Its
    // promise has settled already; it concerns nobody else.
    if (fileRequest && code === "unknown_transfer") return;
    this.#onError?.(error);
  }

  /** Whether `id` is one this connection gave a file request (`file:<n>`). */
  #isFileId(id: string): boolean {
    if (!id.startsWith(FILE_ID_PREFIX)) return false;
    const count = Number(id.slice(FILE_ID_PREFIX.length));
    return Number.isInteger(count) && count >= 1 && count <= this.#fileRequests;
  }

  #startKeepalive(options: KeepaliveOptions): Keepalive {
    return startKeepalive(options, {
      ping: () => {
        // With an id, so that a server without `ping` answers with an error of that id, which its
        // pending request takes, rather than an error for the oldest request or for onError.
        const id = this.#makeId();
        quiet(this.#request(id, { type: "ping", id }));
      },
      dead: (reason) => {
        // Settled as a drop that the socket has not reported (1006: no close frame), before the
        // socket is let go, whose own close event may come late or never (a browser's closing
        // handshake with a peer that does not answer).
        this.onClose(1006, reason);
        dropWebSocket(this.#socket);
      },
    });
  }

  #violate(problem: string): void {
    this.#violation = problem;
    this.#socket.close(1002, "protocol violation");
  }

  #closedError(code?: number, reason?: string): BunkerError {
    if (this.#violation !== undefined) return new BunkerError("protocol_violation", `the server broke the protocol: ${this.#violation}`, code === undefined ? {} : { closeCode: code });
    const how = code === undefined ? "" : ` (${code}${reason ? ` ${reason}` : ""})`;
    const ended = code === CLOSE_CODES.sessionClosed || code === CLOSE_CODES.unknownSession;
    return new BunkerError(ended ? "session_closed" : "connection_closed", `the ${ended ? "session ended" : "connection closed"}${how}`, code === undefined ? {} : { closeCode: code });
  }
}
