/**
 * The client's Node entry: the same exports as ./index.ts, with `connect` using the `ws` package,
 * since Node 20 has no global WebSocket. `ws` sends the token as an `Authorization` header.
 */
import WebSocket from "ws";
import { connect as connectWith } from "./connect.ts";
import type { ConnectOptions } from "./connect-options.ts";
import type { Session } from "./session-types.ts";
import type { WebSocketConstructor } from "./websocket.ts";

export * from "./index.ts";

/** `connect` of ./index.ts, with `ws` as the WebSocket class unless `options.WebSocket` names another. */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<Session> {
  return connectWith(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, ...options });
}
