import { CLOSE_CODES, type ClientMessage, type ExecInfo, type HelloMessage, type SandboxInfo, type ServerMessage } from "../protocol/index.ts";
import { closedError } from "./closed-error.ts";
import { runCommand, type RunOptions, type RunResult } from "./run-command.ts";
import { createDeferred } from "./deferred.ts";
import { BunkerError, quiet } from "./errors.ts";
import type { ExecHandle } from "./exec-handle-types.ts";
import type { ClientExecHandle } from "./exec-handle.ts";
import { createExecIdGenerator } from "./exec-ids.ts";
import type { ExecCommand, ExecOptions } from "./exec-options.ts";
import { createSessionFiles, type SessionFiles } from "./files.ts";
import type { KeepaliveOptions } from "./keepalive.ts";
import { MessageRouter } from "./message-router.ts";
import type { OpenedSocket } from "./open-socket.ts";
import { reconnectFailure, SessionReconnect } from "./session-reconnect.ts";
import type { ResolvedReconnect } from "./reconnect-options.ts";
import type { Outgoing, SendLine } from "./send-pacer.ts";
import { createExecTransport, createFileChannel, type ChannelHost } from "./session-channels.ts";
import { createAttachHandle, createExecHandle, type HandleMaker } from "./session-handles.ts";
import type { AttachOptions, Session, SessionClosed } from "./session-types.ts";
import { SocketLink } from "./socket-link.ts";

/** What a session is made with, besides its first socket. */
export interface ClientSessionOptions {
  onError: ((error: BunkerError) => void) | undefined;
  keepalive: KeepaliveOptions | undefined;
  /** Undefined: a drop is the end. */
  reconnect: ResolvedReconnect | undefined;
  /** Opens a socket that resumes this session (`resume.replaces` names the socket given up). */
  reopen(resume: { session: string; secret: string; replaces?: string }, connectTimeoutMs: number): Promise<OpenedSocket>;
}

/**
 * The client side of one session. `connect` makes it once `hello` has arrived, over that socket;
 * with `reconnect`, a drop puts it on a new socket of the same session (session-reconnect.ts), and
 * the exec handles, requests made meanwhile and the `files` object go on over that one.
 */
export class ClientSession implements Session {
  readonly closed: Promise<SessionClosed>;
  readonly files: SessionFiles;
  #link: SocketLink;
  readonly #router = new MessageRouter({
    send: (message) => this.#send(message),
    violate: (problem) => this.#link.violate(problem),
    onError: (error) => this.#options.onError?.(error),
    // The hello stays what the session is now: a reconnect's next one carries the same secret.
    viewSecretChanged: (viewSecret) => (this.#link.hello.viewSecret = viewSecret),
  });
  readonly #makeId = createExecIdGenerator();
  readonly #handleMaker: HandleMaker;
  readonly #options: ClientSessionOptions;
  readonly #resolveClosed: (closed: SessionClosed) => void;
  /** Set while reconnecting: what the session does meanwhile, and the messages it holds for the new socket. */
  #reconnect: SessionReconnect | undefined;
  /** `disconnect()` or `close()` was called: a drop is the end, not a reason to reconnect. */
  #leaving = false;
  /** `close()` came while reconnecting: it is sent once the session is back. */
  #closeWhenBack = false;
  /** `closed` has settled: everything waiting has failed, and nothing more is sent. */
  #over = false;

  constructor(opened: OpenedSocket, options: ClientSessionOptions) {
    this.#options = options;
    this.#link = this.#linkTo(opened);
    this.#router.heardExecs(opened.hello.execs);
    const closed = createDeferred<SessionClosed>();
    this.closed = closed.promise;
    this.#resolveClosed = closed.resolve;
    const host: ChannelHost = {
      router: this.#router,
      link: () => this.#link,
      sendable: () => this.#link.open && !this.#over,
      send: (message, line) => this.#send(message, line),
      request: (id, message, line) => this.#request(id, message, line),
    };
    this.files = createSessionFiles(createFileChannel(host, opened.hello));
    this.#handleMaker = { router: this.#router, transport: createExecTransport(host, opened.hello, options.reconnect !== undefined), makeId: this.#makeId };
    this.#bind(opened, this.#link);
  }

  /** The latest socket's `hello`: after a reconnect, the resumed one. */
  get hello(): HelloMessage {
    return this.#link.hello;
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
    // A viewer's hello has no resume secret: a resume with none is refused (unknown_session).
    return { session: this.hello.session, secret: this.hello.resumeSecret ?? "" };
  }
  get view(): { session: string; secret: string } | undefined {
    const secret = this.hello.viewSecret;
    return secret === undefined ? undefined : { session: this.hello.session, secret };
  }
  get viewer(): boolean {
    return this.hello.role === "viewer";
  }
  /** This socket's id within the session (`resume.replaces` of a later connect); undefined from an older server. */
  get connection(): string | undefined {
    return this.hello.connection;
  }
  get reconnecting(): boolean {
    return this.#reconnect !== undefined;
  }

  exec(command: ExecCommand, options: ExecOptions = {}): ExecHandle {
    const { handle, message } = createExecHandle(this.#handleMaker, command, options);
    this.#follow(handle, message);
    return handle;
  }

  run(command: ExecCommand, options?: RunOptions): Promise<RunResult> {
    return runCommand((what, execOptions) => this.exec(what, execOptions), command, options);
  }

  attach(id: string, offsets: { stdout?: number; stderr?: number } = {}, options: AttachOptions = {}): ExecHandle {
    const { handle, message } = createAttachHandle(this.#handleMaker, id, offsets, options);
    this.#follow(handle, message);
    return handle;
  }

  async list(): Promise<ExecInfo[]> {
    const id = this.#makeId();
    const message = await this.#request(id, { type: "list", id });
    if (message.type !== "execs") return [];
    this.#router.heardExecs(message.execs);
    return message.execs;
  }

  async revokeViewers(): Promise<{ view: { session: string; secret: string }; viewersCut: number }> {
    const id = this.#makeId();
    const message = await this.#request(id, { type: "view.revoke", id });
    const viewersCut = message.type === "view.revoked" ? message.viewersCut : 0;
    return { view: this.view!, viewersCut };
  }

  async close(): Promise<void> {
    if (this.#reconnect) {
      // Ending the session needs the server: once back, or never (then `closed` settles anyway).
      this.#closeWhenBack = true;
    } else if (this.#link.open && !this.#over) {
      this.#leaving = true;
      this.#sendClose();
    }
    await this.closed;
  }

  async disconnect(): Promise<void> {
    this.#leaving = true;
    if (this.#reconnect) this.#end(this.#reconnect.cause.closeCode ?? 1006, "disconnect() while reconnecting", this.#closedError(1000, "disconnected while reconnecting"));
    else this.#link.socket.close(1000);
    await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #sendClose(): void {
    // Ending the session must not wait behind an ack window that nobody reads any more.
    for (const handle of this.#router.execs.values()) handle.releaseWindow();
    // A server without `close` answers with an error: closing the socket then ends the session there.
    const socket = this.#link.socket;
    this.#router.requests.add("close").catch(() => socket.close(1000));
    this.#send({ type: "close" });
  }

  /** A link for a greeted socket; its events reach the session once `#bind` is called. */
  #linkTo(opened: OpenedSocket): SocketLink {
    const link: SocketLink = new SocketLink(
      opened.socket,
      opened.hello,
      {
        route: (message) => this.#router.route(message),
        routeOutput: (header, bytes) => this.#router.routeOutput(header, bytes),
        ping: () => {
          // With an id, so that a server without `ping` answers with an error of that id, which its
          // pending request takes, rather than an error for the oldest request or for onError.
          const id = this.#makeId();
          quiet(this.#request(id, { type: "ping", id }, "ahead"));
        },
        closed: (code, reason) => this.#dropped(link, code, reason),
      },
      this.#options.keepalive,
    );
    return link;
  }

  /**
   * Lets the socket's events in, those that came since its `hello` first: only once the link is the
   * session's, so that a close among them is the session's drop.
   */
  #bind(opened: OpenedSocket, link: SocketLink): void {
    opened.bind({ receive: (data) => link.receive(data), onClose: (code, reason) => link.onClose(code, reason) });
  }

  /** A link's socket closed, or its keepalive gave up on it. */
  #dropped(link: SocketLink, code: number, reason: string): void {
    if (link !== this.#link || this.#over) return;
    const error = this.#closedError(code, reason);
    if (!this.#mayReconnect(link, code)) return this.#end(code, reason, error, link.violation);
    this.#reconnect = new SessionReconnect(error, this.#options.reconnect!);
    // Nobody knows whether the server carried out what was in flight: it fails, and may be sent
    // again. Execs wait: they are followed again from what they hold.
    const lost = new BunkerError(error.code, `${error.message}; the session is reconnecting, but whether the server carried out this request is unknown`, { closeCode: code });
    this.#router.requests.rejectAll(lost);
    this.#router.failFileStreams(lost);
    for (const handle of this.#router.execs.values()) handle.disconnected();
    // `replaces` names the socket given up: the server cuts it before it greets the new one.
    const resume = { ...this.resume, ...(this.connection !== undefined && { replaces: this.connection }) };
    void this.#reconnect
      .run((connectTimeoutMs) => this.#options.reopen(resume, connectTimeoutMs), () => this.#leaving || this.#over)
      .then((result) => {
        if (result.kind === "resumed") return this.#resumed(result.opened);
        if (result.kind !== "abandoned") this.#end(code, reason, reconnectFailure(result, this.id, this.#options.reconnect!.timeoutMs, code));
      });
  }

  /** Whether a drop of `link` with `code` is one to come back from. */
  #mayReconnect(link: SocketLink, code: number): boolean {
    if (!this.#options.reconnect || this.#leaving || link.violation !== undefined) return false;
    // The session ended, or the server is shutting down (its sessions end with it).
    return code !== CLOSE_CODES.sessionClosed && code !== CLOSE_CODES.unknownSession && code !== CLOSE_CODES.goingAway;
  }

  /** Back in the session on a new socket: every handle is followed again, then what was held goes. */
  #resumed(opened: OpenedSocket): void {
    const reconnect = this.#reconnect;
    // Over in the meantime (`disconnect()` between the last check and now): the socket is let go.
    if (!reconnect || this.#over) return opened.socket.close(1000);
    this.#reconnect = undefined;
    this.#link = this.#linkTo(opened);
    this.#router.heardExecs(opened.hello.execs);
    if (this.#closeWhenBack) {
      this.#leaving = true;
      this.#sendClose();
      return this.#bind(opened, this.#link);
    }
    for (const handle of [...this.#router.execs.values()]) handle.reconnected(this.#router.known.get(handle.id));
    for (const { message, line } of reconnect.held) this.#link.pacer.send(message, line);
    this.#bind(opened, this.#link);
    reconnect.done(opened.hello);
  }

  /** The session object is over: everything still waiting fails with `error`, and `closed` settles. */
  #end(code: number, reason: string, error: BunkerError, violation?: string): void {
    if (this.#over) return;
    this.#over = true;
    this.#reconnect?.abandon();
    this.#reconnect = undefined;
    this.#router.failAll(error, error.closeCode ?? code);
    this.#resolveClosed({ code, reason, ...(violation !== undefined && { violation }), ...(error.code === "reconnect_failed" && { reconnectError: error }) });
  }

  #follow(handle: ClientExecHandle, message: ClientMessage): void {
    this.#router.execs.set(handle.id, handle);
    // While reconnecting, the handle sends its exec or attach itself once the session is back.
    if (this.#reconnect) return;
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
   * behind the rest), or `ahead` of both (the keepalive's ping). See SendPacer. While reconnecting,
   * what may wait for the new socket is held (see SessionReconnect.hold).
   */
  #send(message: ClientMessage, line: SendLine | "ahead" = "normal"): boolean {
    if (this.#over) return false;
    if (this.#reconnect) return line !== "ahead" && this.#reconnect.hold(message, line);
    if (!this.#link.open) return false;
    const text: Outgoing = JSON.stringify(message);
    if (line === "ahead") this.#link.pacer.sendAhead(text);
    else this.#link.pacer.send(text, line);
    return true;
  }

  #closedError(code?: number, reason?: string): BunkerError {
    return closedError(this.#link.violation, code, reason);
  }
}
