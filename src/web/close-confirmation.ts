import { CLOSE_CODES, decodeServerMessage } from "../protocol/index.ts";

/**
 * How long a `close` sent over a socket that looked open may take to be confirmed. The server
 * answers with `closed` and close code 4000 once it has ended the session (its workspace removed:
 * usually milliseconds). Past this, the socket is taken for dead and the session is handed to the
 * session closer, whose fresh socket ends it (or finds it gone); a slow confirmation only costs
 * that second, harmless try.
 */
export const CLOSE_CONFIRM_TIMEOUT_MS = 5_000;

/**
 * Watches a socket that `close` was just sent over: `unconfirmed` runs once if it closes without the
 * server's `closed` (or code 4000), or has not closed within CLOSE_CONFIRM_TIMEOUT_MS. A socket that
 * looks open may be dead (a network that dropped without a word, a relay that swallows frames):
 * the `close` it took was never delivered, and the session would otherwise live its detach TTL.
 */
export function watchCloseConfirmation(ws: WebSocket, unconfirmed: () => void): void {
  let settled = false;
  let confirmed = false;
  const settle = (delivered: boolean) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (!delivered) unconfirmed();
  };
  ws.addEventListener("message", (event: MessageEvent) => {
    if (typeof event.data !== "string") return;
    const decoded = decodeServerMessage(event.data);
    if (decoded.ok && decoded.message.type === "closed") confirmed = true;
  });
  ws.addEventListener("close", (event: CloseEvent) => settle(confirmed || event.code === CLOSE_CODES.sessionClosed));
  // Not the close event: on a dead socket the browser may wait a minute for the closing handshake.
  const timer = setTimeout(() => {
    ws.close(1000, "tab closed");
    settle(confirmed);
  }, CLOSE_CONFIRM_TIMEOUT_MS);
}
