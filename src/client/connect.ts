import { resolveConnectOptions, type ConnectOptions } from "./connect-options.ts";
import { openSocket } from "./open-socket.ts";
import { ClientSession } from "./session.ts";
import type { Session } from "./session-types.ts";

/**
 * Opens a session: connects to a bunker server's WebSocket URL (such as `ws://127.0.0.1:7681/ws`)
 * and resolves once `hello` has arrived. Rejects with a BunkerError (`connect_failed`, also when
 * no `hello` came within `connectTimeoutMs`; `unknown_session` for a resume the server refuses;
 * `unsupported_protocol`); throws a TypeError for bad options.
 */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<Session> {
  // Not async: misuse throws its TypeError at once, as documented, rather than rejecting.
  const resolved = resolveConnectOptions(url, options);
  return openSocket(resolved).then((opened) => new ClientSession(opened, {
    onError: resolved.onError,
    keepalive: resolved.keepalive,
    reconnect: resolved.reconnect,
    // A resume names its session: not `name` or `routable`, which only the first connection needs.
    // A viewer has no resume secret: it joins again as it joined.
    reopen: (resume, connectTimeoutMs) =>
      openSocket(resolveConnectOptions(url, options.view ? { ...options, connectTimeoutMs } : { ...options, name: undefined, routable: false, resume, connectTimeoutMs })),
  }));
}
