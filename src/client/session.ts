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
import { DEFAULT_MAX_MESSAGES_PER_SECOND, MAX_OPEN_FILE_HANDLES, MAX_QUEUED_FILE_REQUESTS } from "../protocol/limits.ts";
import { runCommand, type RunOptions, type RunResult } from "./run-command.ts";
import { createDeferred } from "./deferred.ts";
import { binaryFrameBytes, createBinaryFramePairer, decodeServerText } from "./decode-frame.ts";
import { BunkerError, quiet } from "./errors.ts";
import type { ExecHandle, ExecTransport } from "./exec-handle-types.ts";
import { ClientExecHandle } from "./exec-handle.ts";
import { assertExecIdNotReserved, createExecIdGenerator } from "./exec-ids.ts";
import { DEFAULT_ENCODING, buildExecMessage, type ExecCommand, type ExecOptions } from "./exec-options.ts";
import { createSessionFiles, type SessionFiles } from "./files.ts";
import { startKeepalive, type Keepalive, type KeepaliveOptions } from "./keepalive.ts";
import { rawBytesPerMessage } from "./message-bytes.ts";
import { MessageRouter } from "./message-router.ts";
import { RequestSlots } from "./request-slots.ts";
import { QueuedStdin } from "./queued-stdin.ts";
import { SendPacer, type SendLine } from "./send-pacer.ts";
import type { AttachOptions, Session, SessionClosed } from "./session-types.ts";
import { OPEN, dropWebSocket, waitForBufferedBelow, type WebSocketLike } from "./websocket.ts";

/** The socket's send queue above which stdin writes wait. */
const SEND_HIGH_WATER_BYTES = 1024 * 1024;

/** The client side of one session over one socket. `connect` makes it once `hello` has arrived. */
export class ClientSession implements Session {
  readonly closed: Promise<SessionClosed>;
  readonly files: SessionFiles;
  readonly #socket: WebSocketLike;
  /** Every message goes out through it, at most at the server's rate (see SendPacer). */
  readonly #pacer: SendPacer;
  readonly #router = new MessageRouter({
    send: (message) => this.#send(message),
    violate: (problem) => this.#violate(problem),
    onError: (error) => this.#onError?.(error),
  });
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
    this.#pacer = new SendPacer(hello.maxMessagesPerSecond ?? DEFAULT_MAX_MESSAGES_PER_SECOND, (text) => {
      if (socket.readyState === OPEN) socket.send(text);
    });
    this.#onError = onError;
    this.#keepalive = keepalive && this.#startKeepalive(keepalive);
    for (const info of hello.execs) this.#router.known.set(info.id, info);
    const closed = createDeferred<SessionClosed>();
    this.closed = closed.promise;
    this.#resolveClosed = closed.resolve;
    const fileRequests = new RequestSlots(MAX_QUEUED_FILE_REQUESTS - MAX_OPEN_FILE_HANDLES);
    this.files = createSessionFiles({
      nextId: () => this.#router.nextFileId(),
      // Within the server's queue, which also holds the opens of uploads, downloads and watches.
      request: (message) => fileRequests.run(() => this.#request(message.id, message, "bulk") as Promise<FileReply>),
      open: (message, handler) => {
        // Its place in the server's queue is taken until its first reply (ready, or an error).
        const release = fileRequests.hold();
        if (!this.#send(message, "bulk")) {
          release();
          return false;
        }
        this.#router.fileStreams.set(message.id, {
          reply: (reply) => {
            release();
            handler.reply(reply);
          },
          fail: (error) => {
            release();
            handler.fail(error);
          },
        });
        return true;
      },
      send: (message) => this.#send(message, "bulk"),
      release: (id) => void this.#router.fileStreams.delete(id),
      drained: async () => {
        await this.#pacer.flushed("bulk");
        await waitForBufferedBelow(socket, SEND_HIGH_WATER_BYTES);
      },
      maxFrameBytes: hello.maxFrameBytes,
    });
    const messageBytes = rawBytesPerMessage(hello.maxFrameBytes);
    this.#transport = {
      send: (message) => this.#send(message),
      sendStdin: (id, bytes, eof) => {
        if (this.#socket.readyState !== OPEN || this.#socketGone) return false;
        const message = new QueuedStdin(id, messageBytes);
        message.add(id, bytes, eof);
        this.#pacer.send(message);
        return true;
      },
      joinQueuedStdin: (id, bytes, eof) => {
        if (this.#socket.readyState !== OPEN || this.#socketGone) return false;
        const last = this.#pacer.last();
        return last instanceof QueuedStdin && last.add(id, bytes, eof);
      },
      drained: async () => {
        // (The stdin sender has let the exec's `exit` and any refusal in already: yieldToSocketEvents.)
        // Not past messages that wait for the server's rate (those queued before it, not the ones
        // that come after: a file scan that keeps the queue full froze a terminal's keystrokes).
        await this.#pacer.flushed();
        await waitForBufferedBelow(socket, SEND_HIGH_WATER_BYTES);
      },
      messageBytes,
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
    if (this.#router.execs.get(message.id)?.live) throw new TypeError(`exec: id ${JSON.stringify(message.id)} belongs to an exec this session still follows`);
    const handle = new ClientExecHandle(
      { id: message.id, encoding: message.encoding ?? DEFAULT_ENCODING, ackWindowBytes: message.ackWindowBytes, stdinOpen: message.stdin === true || message.pty !== undefined },
      this.#transport,
    );
    this.#follow(handle, message);
    return handle;
  }

  run(command: ExecCommand, options?: RunOptions): Promise<RunResult> {
    return runCommand((what, execOptions) => this.exec(what, execOptions), command, options);
  }

  attach(id: string, offsets: { stdout?: number; stderr?: number } = {}, options: AttachOptions = {}): ExecHandle {
    const encoding = options.encoding ?? DEFAULT_ENCODING;
    const message = { type: "attach" as const, id, offsets, encoding, ...(options.ackWindowBytes !== undefined && { ackWindowBytes: options.ackWindowBytes }) };
    const checked = v.safeParse(AttachMessageSchema, message);
    if (!checked.success) throw new TypeError(`attach: ${describeIssue(checked.issues[0])} (got ${JSON.stringify(checked.issues[0].input)})`);
    assertExecIdNotReserved("attach", id);
    if (this.#router.execs.get(id)?.live) throw new TypeError(`attach: this session already follows exec ${JSON.stringify(id)}`);
    const info = this.#router.known.get(id);
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
    for (const info of execs) this.#router.known.set(info.id, info);
    return execs;
  }

  async close(): Promise<void> {
    if (this.#socket.readyState === OPEN) {
      // Ending the session must not wait behind an ack window that nobody reads any more.
      for (const handle of this.#router.execs.values()) handle.releaseWindow();
      // A server without `close` answers with an error: closing the socket then ends the session there.
      this.#router.requests.add("close").catch(() => this.#socket.close(1000));
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
      if (result.kind === "message") return this.#router.route(result.message);
      if (result.kind === "violation") return this.#violate(result.problem);
      return;
    }
    const bytes = binaryFrameBytes(data);
    if (!bytes) return this.#violate("a frame that is neither text nor binary");
    const result = this.#pairer.push(bytes);
    if (result.kind === "violation") return this.#violate(result.problem);
    if (result.kind === "output") this.#router.routeOutput(result.header, result.bytes);
  }

  /** The socket closed: everything still waiting fails. */
  onClose(code: number, reason: string): void {
    if (this.#socketGone) return;
    this.#socketGone = true;
    this.#keepalive?.stop();
    this.#pacer.stop();
    this.#router.failAll(this.#closedError(code, reason), code);
    this.#resolveClosed({ code, reason, ...(this.#violation !== undefined && { violation: this.#violation }) });
  }

  #follow(handle: ClientExecHandle, message: ClientMessage): void {
    this.#router.execs.set(handle.id, handle);
    if (!this.#send(message)) {
      handle.fail(this.#closedError());
      this.#router.execs.delete(handle.id);
    }
  }

  /** Sends a request and resolves with its reply; rejects with connection_closed when it cannot be sent. */
  #request(id: string, message: ClientMessage, line: SendLine | "ahead" = "normal"): Promise<ServerMessage> {
    const reply = this.#router.requests.add(id);
    if (!this.#send(message, line)) this.#router.requests.reject(id, this.#closedError());
    return reply;
  }

  /**
   * Sends through the pacer: in the normal line, in the bulk line (file requests and transfers,
   * behind the rest), or `ahead` of both (the keepalive's ping). See SendPacer.
   */
  #send(message: ClientMessage, line: SendLine | "ahead" = "normal"): boolean {
    if (this.#socket.readyState !== OPEN || this.#socketGone) return false;
    const text = JSON.stringify(message);
    if (line === "ahead") this.#pacer.sendAhead(text);
    else this.#pacer.send(text, line);
    return true;
  }

  #startKeepalive(options: KeepaliveOptions): Keepalive {
    return startKeepalive(options, {
      ping: () => {
        // With an id, so that a server without `ping` answers with an error of that id, which its
        // pending request takes, rather than an error for the oldest request or for onError.
        const id = this.#makeId();
        quiet(this.#request(id, { type: "ping", id }, "ahead"));
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
