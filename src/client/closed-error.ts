import { CLOSE_CODES } from "../protocol/index.ts";
import { BunkerError } from "./errors.ts";

/**
 * What fails when a session's socket closed with `code` (undefined: it is not open, and no close has
 * come yet): `protocol_violation` when the client closed it for one, `session_closed` when the
 * session ended (4000, 4404), `connection_closed` otherwise.
 */
export function closedError(violation: string | undefined, code?: number, reason?: string): BunkerError {
  const details = code === undefined ? {} : { closeCode: code };
  if (violation !== undefined) return new BunkerError("protocol_violation", `the server broke the protocol: ${violation}`, details);
  const how = code === undefined ? "" : ` (${code}${reason ? ` ${reason}` : ""})`;
  const ended = code === CLOSE_CODES.sessionClosed || code === CLOSE_CODES.unknownSession;
  return new BunkerError(ended ? "session_closed" : "connection_closed", `the ${ended ? "session ended" : "connection closed"}${how}`, details);
}
