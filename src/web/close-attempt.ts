import { CLOSE_CODES, decodeServerMessage, type ClientMessage } from "../protocol/index.ts";
import type { SessionToEnd } from "./saved-tabs.ts";
import { PAGE_DETACH_TTL_MS, buildSocketUrl, buildSubprotocols, type PageLocation } from "./socket-url.ts";

/**
 * How one try to end a session went: `ended` by this try, `gone` (the server no longer has it, or
 * no try can ever reach it), or `unreachable` (try again later).
 */
export type CloseAttemptOutcome = "ended" | "gone" | "unreachable";

/**
 * A try that has not ended by then is given up (and counts as unreachable): a relay that accepts
 * and never answers would otherwise hold it for ever. The tabs' keepalive gives up after 25 s.
 */
const CLOSE_ATTEMPT_TIMEOUT_MS = 20_000;

/**
 * Resumes `target` with its resume secret and sends `close` (docs/PROTOCOL.md): the server kills
 * its processes, deletes its workspace (unless it keeps workspaces), and closes the socket with
 * 4000. A resume it refuses (`unknown_session`, 4404) means there is nothing left to end.
 */
export function closeSessionOnce(page: PageLocation, token: string | undefined, target: SessionToEnd): Promise<CloseAttemptOutcome> {
  return new Promise((resolve) => {
    let ws: WebSocket;
    try {
      // The TTL the tabs ask for: were this socket cut before its `close` arrived, the session
      // should not be kept longer than its tab would have kept it.
      ws = new WebSocket(buildSocketUrl(page, target.session, undefined, undefined, PAGE_DETACH_TTL_MS), buildSubprotocols(token, target.resumeSecret));
    } catch {
      // A token a subprotocol cannot carry: every try would throw alike.
      resolve("gone");
      return;
    }
    /** The server greeted a session other than `target` (one that cannot resume opened a new one). */
    let other = false;
    let closedSeen = false;
    const timer = setTimeout(() => ws.close(), CLOSE_ATTEMPT_TIMEOUT_MS);
    ws.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== "string") return;
      const decoded = decodeServerMessage(event.data);
      if (!decoded.ok) return;
      const message = decoded.message;
      if (message.type === "hello") {
        other = !message.resumed || message.session !== target.session;
        // A new session made by mistake is ended as well.
        ws.send(JSON.stringify({ type: "close" } satisfies ClientMessage));
      } else if (message.type === "closed") {
        closedSeen = true;
      }
    };
    ws.onclose = (event: CloseEvent) => {
      clearTimeout(timer);
      if (event.code === CLOSE_CODES.unknownSession || other) resolve("gone");
      else if (closedSeen || event.code === CLOSE_CODES.sessionClosed) resolve("ended");
      else resolve("unreachable");
    };
  });
}
