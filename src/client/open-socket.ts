import { PROTOCOL_VERSION, type HelloMessage } from "../protocol/index.ts";
import type { ResolvedConnectOptions } from "./connect-options.ts";
import { decodeServerText } from "./decode-frame.ts";
import { BunkerError } from "./errors.ts";
import { setUnrefTimeout } from "./timers.ts";
import { dropWebSocket, openWebSocket, type WebSocketLike } from "./websocket.ts";

/** Where a socket's events go once its `hello` has been taken. */
export interface SocketEvents {
  receive(data: unknown): void;
  onClose(code: number, reason: string): void;
}

/** A socket the server has greeted. Its later events wait until `bind` says where they go. */
export interface OpenedSocket {
  readonly socket: WebSocketLike;
  readonly hello: HelloMessage;
  /** Delivers the events that came since `hello` (in order), and every later one, to `events`. */
  bind(events: SocketEvents): void;
}

type Held = { kind: "message"; data: unknown } | { kind: "close"; code: number; reason: string };

/**
 * Opens a socket and resolves once `hello` has arrived: what `connect` does for a new session, and
 * a reconnect for each attempt. Rejects with a BunkerError (`connect_failed`, also when no `hello`
 * came within `connectTimeoutMs`; the server's code, `unknown_session`, for a refused resume;
 * `unsupported_protocol`; `protocol_violation` when the first message is not `hello`).
 */
export function openSocket(resolved: ResolvedConnectOptions): Promise<OpenedSocket> {
  return new Promise((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = openWebSocket(resolved.WebSocket, resolved.headerStyle, resolved.url, resolved.protocols, resolved.headers);
      socket.binaryType = "arraybuffer";
    } catch (error) {
      reject(new BunkerError("connect_failed", `could not open a WebSocket to ${resolved.url}: ${(error as Error).message}`));
      return;
    }
    let greeted = false;
    // Events after `hello` and before `bind`: `ws` emits every message of one TCP read in a row,
    // with no chance for the code awaiting this promise to run in between.
    const held: Held[] = [];
    let events: SocketEvents | undefined;
    let failure: BunkerError | undefined;
    let errorText: string | undefined;
    let opened = false;
    // A listener that accepts TCP and never answers the upgrade, or a server that never says hello,
    // would otherwise leave `connect` pending forever.
    const cancelTimeout =
      resolved.connectTimeoutMs === 0
        ? () => {}
        : setUnrefTimeout(() => {
            const what = opened ? "the WebSocket opened but no hello came" : "the WebSocket did not open";
            failure ??= new BunkerError("connect_failed", `could not connect to ${resolved.url}: ${what} within ${resolved.connectTimeoutMs} ms (connectTimeoutMs)`);
            reject(failure);
            dropWebSocket(socket);
          }, resolved.connectTimeoutMs);

    const refuse = (error: BunkerError, closeCode: number) => {
      failure = error;
      socket.close(closeCode);
    };
    const bind = (target: SocketEvents) => {
      events = target;
      for (const event of held.splice(0)) {
        if (event.kind === "message") target.receive(event.data);
        else target.onClose(event.code, event.reason);
      }
    };
    socket.addEventListener("message", (event) => {
      if (greeted) return events ? events.receive(event.data) : void held.push({ kind: "message", data: event.data });
      if (failure) return;
      const first = typeof event.data === "string" ? decodeServerText(event.data) : undefined;
      if (first?.kind === "message" && first.message.type === "hello") {
        const hello = first.message;
        if (hello.protocol !== PROTOCOL_VERSION) {
          return refuse(new BunkerError("unsupported_protocol", `the server speaks protocol ${hello.protocol}; this client speaks ${PROTOCOL_VERSION}`), 1002);
        }
        cancelTimeout();
        greeted = true;
        return resolve({ socket, hello, bind });
      }
      // A refused resume: `error` unknown_session, then close 4404.
      if (first?.kind === "message" && first.message.type === "error") {
        failure = new BunkerError(first.message.code, first.message.message);
        return;
      }
      refuse(new BunkerError("protocol_violation", "the server's first message was not hello"), 1002);
    });
    socket.addEventListener("open", () => {
      opened = true;
    });
    socket.addEventListener("error", (event) => {
      errorText = typeof event?.message === "string" && event.message ? event.message : undefined;
    });
    socket.addEventListener("close", (event) => {
      if (greeted) return events ? events.onClose(event.code, event.reason) : void held.push({ kind: "close", code: event.code, reason: event.reason });
      cancelTimeout();
      const how = errorText ?? `the socket closed with ${event.code}${event.reason ? ` ${event.reason}` : ""}`;
      reject(failure ?? new BunkerError("connect_failed", `could not connect to ${resolved.url}: ${how}`, { closeCode: event.code }));
    });
  });
}
