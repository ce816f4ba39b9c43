import { CLOSE_CODES } from "../protocol/index.ts";
import { BunkerError } from "./errors.ts";

/**
 * The HTTP status a refused WebSocket handshake was answered with, read from the message: the
 * WebSocket APIs have no field for it. Bun's WebSocket says "Expected 101 status code: 401", the `ws`
 * package "Unexpected server response: 401"; a browser says nothing, so there it is undefined.
 */
export function handshakeStatus(error: BunkerError): number | undefined {
  if (error.code !== "connect_failed") return undefined;
  const match = /(?:Expected 101 status code|Unexpected server response):? (\d{3})\b/.exec(error.message);
  return match ? Number(match[1]) : undefined;
}

/**
 * Why a failed attempt to resume a session ends the attempts, when no later one can do better:
 * `gone` when the server no longer has the session (`unknown_session`: it ended, expired, lives on
 * no host that answers, or the secret is wrong); `refused` when the server turned the connection
 * away for who it is (401: a missing or wrong token; 403: its origin check, or a proxy in front of
 * it). Undefined for anything worth another attempt: a refused or reset connection, a 503 or 429
 * while a server restarts or is busy, a timeout. The one decision of the library's automatic
 * reconnect (resume-loop.ts) and of `bunker exec`'s (cli/reconnect.ts).
 */
export function finalResumeFailure(error: unknown): "gone" | "refused" | undefined {
  if (!(error instanceof BunkerError)) return undefined;
  if (error.code === "unknown_session" || error.code === "session_closed") return "gone";
  // A socket closed with the session's end before any `error` reached the client says the same.
  if (error.closeCode === CLOSE_CODES.unknownSession || error.closeCode === CLOSE_CODES.sessionClosed) return "gone";
  const status = handshakeStatus(error);
  return status === 401 || status === 403 ? "refused" : undefined;
}

/** What a refused resume's `reconnect_failed` says of it (`refused` by finalResumeFailure). */
export function describeResumeRefusal(error: BunkerError): string {
  return handshakeStatus(error) === 401
    ? "the server refused the token (HTTP 401)"
    : "the server refused the connection (HTTP 403: its origin check, or a proxy in front of it)";
}
