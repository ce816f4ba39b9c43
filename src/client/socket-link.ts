import type { HelloMessage, OutputHeader, ServerMessage } from "../protocol/index.ts";
import { DEFAULT_MAX_MESSAGES_PER_SECOND } from "../protocol/limits.ts";
import { binaryFrameBytes, createBinaryFramePairer, decodeServerText } from "./decode-frame.ts";
import { startKeepalive, type Keepalive, type KeepaliveOptions } from "./keepalive.ts";
import { SendPacer } from "./send-pacer.ts";
import { OPEN, dropWebSocket, type WebSocketLike } from "./websocket.ts";

/** What a link hands its session. */
export interface SocketLinkHost {
  route(message: ServerMessage): void;
  routeOutput(header: OutputHeader, bytes: Uint8Array): void;
  /** The keepalive wants a `ping` sent (ahead of everything queued). */
  ping(): void;
  /** The socket closed, or the keepalive gave it up (1006): called once. */
  closed(code: number, reason: string): void;
}

/**
 * One socket of a session: what it sends (paced to the server's rate), what it receives (frames
 * paired and decoded), and its keepalive. A session has one at a time; after a drop and a resume,
 * a new one takes over, and the old one hears nothing more.
 */
export class SocketLink {
  /** Every message goes out through it, at most at the server's rate (see SendPacer). */
  readonly pacer: SendPacer;
  readonly #pairer = createBinaryFramePairer();
  readonly #keepalive: Keepalive | undefined;
  /** Why the client closed the socket with 1002, if it did. */
  violation: string | undefined;
  /** The socket closed, or the keepalive gave up on it: nothing more goes out or comes in. */
  #gone = false;

  constructor(
    readonly socket: WebSocketLike,
    readonly hello: HelloMessage,
    private readonly host: SocketLinkHost,
    keepalive: KeepaliveOptions | undefined,
  ) {
    this.pacer = new SendPacer(hello.maxMessagesPerSecond ?? DEFAULT_MAX_MESSAGES_PER_SECOND, (text) => {
      if (socket.readyState === OPEN) socket.send(text);
    });
    this.#keepalive =
      keepalive &&
      startKeepalive(keepalive, {
        ping: () => host.ping(),
        dead: (reason) => {
          // Settled as a drop that the socket has not reported (1006: no close frame), before the
          // socket is let go, whose own close event may come late or never (a browser's closing
          // handshake with a peer that does not answer).
          this.onClose(1006, reason);
          dropWebSocket(socket);
        },
      });
  }

  /** Whether a message handed over now can still go out on this socket. */
  get open(): boolean {
    return !this.#gone && this.socket.readyState === OPEN;
  }

  /** Takes one frame from the socket. */
  receive(data: unknown): void {
    if (this.violation !== undefined || this.#gone) return;
    this.#keepalive?.received();
    if (typeof data === "string") {
      if (this.#pairer.awaitingPayload) return this.violate("a text frame arrived between an output header and its payload");
      const result = decodeServerText(data);
      if (result.kind === "message") return this.host.route(result.message);
      if (result.kind === "violation") return this.violate(result.problem);
      return;
    }
    const bytes = binaryFrameBytes(data);
    if (!bytes) return this.violate("a frame that is neither text nor binary");
    const result = this.#pairer.push(bytes);
    if (result.kind === "violation") return this.violate(result.problem);
    if (result.kind === "output") this.host.routeOutput(result.header, result.bytes);
  }

  /** The socket closed (or is taken for dead): its timers stop, what waits to be sent is dropped. */
  onClose(code: number, reason: string): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#keepalive?.stop();
    this.pacer.stop();
    this.host.closed(code, reason);
  }

  /** Closes the socket because the server broke the protocol. */
  violate(problem: string): void {
    this.violation = problem;
    this.socket.close(1002, "protocol violation");
  }
}
