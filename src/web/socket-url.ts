import {
  CREATE_QUERY_PARAM,
  DETACH_TTL_QUERY_PARAM,
  REPLACES_QUERY_PARAM,
  RESUME_SUBPROTOCOL_PREFIX,
  SESSION_QUERY_PARAM,
  SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
  VIEW_SUBPROTOCOL_PREFIX,
  WEBSOCKET_PATH,
} from "../protocol/index.ts";

/** A session to resume: its id (a routing key, in the URL) and its secret (never in a URL). */
export interface ResumeTicket {
  session: string;
  resumeSecret: string;
}

/** Where the page is: its scheme and host, and its path when a proxy serves it under one of its own. */
export type PageLocation = Pick<Location, "protocol" | "host"> & { pathname?: string };

/**
 * The directory the page was served from, with its trailing slash: `/` for the server's own `/`,
 * `/bunker/` behind `location /bunker/ { proxy_pass http://127.0.0.1:7681/; }`. The socket and the
 * health check are asked for there, as the page's own files are (docs/INSTALL.md).
 */
export function pageDirectory(page: PageLocation): string {
  const path = page.pathname ?? "/";
  return path.slice(0, path.lastIndexOf("/") + 1) || "/";
}

/**
 * How long a tab's shell runs on once no socket is joined. A tab closed for good cannot be told
 * from a reload or a dropped network, so its session is kept: for the server's whole --detach-ttl
 * (10 min) each closed tab held an exec slot, and 64 visits locked the page out (found by a
 * review). Two minutes cover a reload, a laptop's brief sleep and a network blip.
 */
export const PAGE_DETACH_TTL_MS = 120_000;

/**
 * The WebSocket URL on the page's own host: `ws(s)://host/ws`, plus `?session=<id>` to resume (with
 * `&replaces=<connection>`, the socket the resume takes over from), or `?session=<newId>&create=1`
 * for a new session with an id chosen here, which a load balancer hashing on the session id sends
 * where its resumes will go (docs/SCALING.md); then `detachTtlMs=` when given.
 */
export function buildSocketUrl(page: PageLocation, session?: string, newId?: string, replaces?: string, detachTtlMs?: number): string {
  const scheme = page.protocol === "https:" ? "wss:" : "ws:";
  const params: Record<string, string> =
    session !== undefined
      ? { [SESSION_QUERY_PARAM]: session, ...(replaces !== undefined && { [REPLACES_QUERY_PARAM]: replaces }) }
      : newId !== undefined
        ? { [SESSION_QUERY_PARAM]: newId, [CREATE_QUERY_PARAM]: "1" }
        : {};
  if (detachTtlMs !== undefined) params[DETACH_TTL_QUERY_PARAM] = String(detachTtlMs);
  const query = Object.keys(params).length > 0 ? `?${new URLSearchParams(params)}` : "";
  return `${scheme}//${page.host}${pageDirectory(page)}${WEBSOCKET_PATH.slice(1)}${query}`;
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

/**
 * A read-only viewer's subprotocols: `bunker.v1` and the view secret, and never the token (a viewer
 * needs none, and a link must not depend on the token of whoever opens it).
 */
export function buildViewerSubprotocols(viewSecret: string): string[] {
  return [SUBPROTOCOL, `${VIEW_SUBPROTOCOL_PREFIX}${viewSecret}`];
}
