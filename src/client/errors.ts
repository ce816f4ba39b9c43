import type { ErrorCode } from "../protocol/index.ts";

/**
 * Codes of the failures the client itself detects, one sentence each (docs/CLIENT.md copies this
 * table). A server `error` keeps the server's code (src/protocol/errors.ts).
 */
export const CLIENT_ERROR_CODES = {
  connect_failed: "The WebSocket did not open or closed before `hello`, or `hello` did not come within `connectTimeoutMs`: a wrong URL, a refused connection, a wrong token (401), an origin the server refuses (403), a listener or network that does not answer.",
  connection_closed: "The connection closed or dropped, or the keepalive found it dead, while something still waited for the server (an exec's exit, a `list` reply).",
  protocol_violation: "The server sent a frame the protocol does not allow; the client closed the connection with 1002.",
  unsupported_protocol: "The server's `hello.protocol` is a major version this client does not speak.",
  session_closed: "The session ended (`close` from some socket of it, or, seen by a viewer, its TTL ran out: close code 4000) before the exec exited.",
  detached: "The exec was detached from this connection before it exited; it may still run on the server.",
  reconnect_failed: "With `reconnect`, the connection dropped and the session could not be resumed: the server no longer has it (`cause` is `unknown_session`), refused the handshake with 401 or 403 (`cause` is that `connect_failed`), or `reconnect.timeoutMs` ran out (`cause` is the last attempt's failure).",
} as const;

/** A code the client detects itself. */
export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

/**
 * A client code, a server code, or (from a later server) a server code this client does not know:
 * v1 clients ignore what they do not know rather than fail on it.
 */
export type BunkerErrorCode = ClientErrorCode | ErrorCode | (string & {});

/** Every failure the client reports: `code` is stable, `message` is for people. */
export class BunkerError extends Error {
  override readonly name = "BunkerError";
  /** The exec the failure belongs to, when there is one. */
  readonly execId: string | undefined;
  /** The WebSocket close code, for failures caused by a close. */
  readonly closeCode: number | undefined;

  constructor(readonly code: BunkerErrorCode, message: string, details: { execId?: string; closeCode?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.execId = details.execId;
    this.closeCode = details.closeCode;
  }
}

/** Marks a promise as handled, so that one nobody awaits never becomes an unhandled rejection. */
export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
