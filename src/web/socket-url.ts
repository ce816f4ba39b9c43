import {
  RESUME_SUBPROTOCOL_PREFIX,
  SESSION_QUERY_PARAM,
  SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
  WEBSOCKET_PATH,
} from "../protocol/index.ts";

/** A session to resume: its id (a routing key, in the URL) and its secret (never in a URL). */
export interface ResumeTicket {
  session: string;
  resumeSecret: string;
}

/** The WebSocket URL on the page's own host: `ws(s)://host/ws`, plus `?session=<id>` to resume. */
export function buildSocketUrl(page: Pick<Location, "protocol" | "host">, session?: string): string {
  const scheme = page.protocol === "https:" ? "wss:" : "ws:";
  const query = session === undefined ? "" : `?${new URLSearchParams({ [SESSION_QUERY_PARAM]: session })}`;
  return `${scheme}//${page.host}${WEBSOCKET_PATH}${query}`;
}

/**
 * The subprotocols to offer: `bunker.v1` first (the one the server selects), then the token and the
 * resume secret, which a browser can send in no header but this one.
 */
export function buildSubprotocols(token: string | undefined, resumeSecret?: string): string[] {
  const offered = [SUBPROTOCOL];
  if (token !== undefined) offered.push(`${TOKEN_SUBPROTOCOL_PREFIX}${token}`);
  if (resumeSecret !== undefined) offered.push(`${RESUME_SUBPROTOCOL_PREFIX}${resumeSecret}`);
  return offered;
}
