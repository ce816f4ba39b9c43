import { PROTOCOL_VERSION } from "../protocol/index.ts";
import { resolveConnectOptions, type ConnectOptions } from "./connect-options.ts";
import { decodeServerText } from "./decode-frame.ts";
import { BunkerError } from "./errors.ts";
import { ClientSession } from "./session.ts";
import type { Session } from "./session-types.ts";
import { setUnrefTimeout } from "./timers.ts";
import { dropWebSocket, openWebSocket, type WebSocketLike } from "./websocket.ts";

/**
 * Opens a session: connects to a bunker server's WebSocket URL (such as `ws://127.0.0.1:7681/ws`)
 * and resolves once `hello` has arrived. Rejects with a BunkerError (`connect_failed`, also when
 * no `hello` came within `connectTimeoutMs`; `unknown_session` for a resume the server refuses;
 * `unsupported_protocol`); throws a TypeError for bad options.
 */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<Session> {
  const resolved = resolveConnectOptions(url, options);
  return new Promise((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = openWebSocket(resolved.WebSocket, resolved.headerStyle, resolved.url, resolved.protocols, resolved.headers);
      socket.binaryType = "arraybuffer";
    } catch (error) {
      reject(new BunkerError("connect_failed", `could not open a WebSocket to ${resolved.url}: ${(error as Error).message}`));
      return;
    }
    let session: ClientSession | undefined;
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
    socket.addEventListener("message", (event) => {
      if (session) return session.receive(event.data);
      if (failure) return;
      const first = typeof event.data === "string" ? decodeServerText(event.data) : undefined;
      if (first?.kind === "message" && first.message.type === "hello") {
        const hello = first.message;
        if (hello.protocol !== PROTOCOL_VERSION) {
          return refuse(new BunkerError("unsupported_protocol", `the server speaks protocol ${hello.protocol}; this client speaks ${PROTOCOL_VERSION}`), 1002);
        }
        cancelTimeout();
        session = new ClientSession(socket, hello, resolved.onError, resolved.keepalive);
        return resolve(session);
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
      if (session) return session.onClose(event.code, event.reason);
      cancelTimeout();
      const how = errorText ?? `the socket closed with ${event.code}${event.reason ? ` ${event.reason}` : ""}`;
      reject(failure ?? new BunkerError("connect_failed", `could not connect to ${resolved.url}: ${how}`, { closeCode: event.code }));
    });
  });
}
