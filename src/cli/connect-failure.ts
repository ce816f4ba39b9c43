import { BunkerError } from "../client/index.ts";
import { handshakeStatus } from "../client/resume-failure.ts";

// Read from the library, which decides with it which failed resumes are final.
export { handshakeStatus };

/** What a connect failure's message can be explained with. */
export interface ConnectContext {
  /** Where the token came from (undefined: none was given). */
  tokenSource: "--token" | "BUNKER_TOKEN" | undefined;
}

/**
 * One line saying why the server refused the connection and what to do about it, for the statuses
 * bunker's upgrade answers with; undefined for any other failure (its own message says enough).
 */
export function describeRefusal(error: BunkerError, context: ConnectContext): string | undefined {
  const status = handshakeStatus(error);
  switch (status) {
    case 401:
      return context.tokenSource === undefined
        ? "the server wants a token (HTTP 401): pass --token or set BUNKER_TOKEN"
        : `the server refused the token (HTTP 401): check ${context.tokenSource}`;
    case 403:
      return "the server refused the connection (HTTP 403): its origin check (--allow-origin) or a proxy in front of it turned this client away";
    case 404:
      return "the server has no WebSocket endpoint at this URL (HTTP 404): check --url or BUNKER_URL (bunker's is /ws)";
    case 429:
      return "the server refused the connection (HTTP 429): this address has as many connections open as its --max-connections-per-address allows; try again later";
    case 503:
      return "the server refused the connection (HTTP 503): it is shutting down, or has its --max-connections open; try again later";
    default:
      return undefined;
  }
}

/** An error's message, or for a refused handshake what bunker says about its status. */
export function failureText(error: unknown, context: ConnectContext): string {
  if (error instanceof BunkerError) return describeRefusal(error, context) ?? error.message;
  return error instanceof Error ? error.message : String(error);
}
