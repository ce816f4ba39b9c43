import {
  CREATE_QUERY_PARAM,
  DETACH_TTL_QUERY_PARAM,
  MIN_DETACH_TTL_MS,
  MAX_TIMEOUT_MS,
  NAME_QUERY_PARAM,
  newSessionId,
  RESUME_SUBPROTOCOL_PREFIX,
  VIEW_SUBPROTOCOL_PREFIX,
  REPLACES_QUERY_PARAM,
  SESSION_QUERY_PARAM,
  SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
} from "../protocol/index.ts";
import type { BunkerError } from "./errors.ts";
import { DEFAULT_KEEPALIVE, type KeepaliveOptions } from "./keepalive.ts";
import { resolveReconnectOptions, type ReconnectOptions, type ResolvedReconnect } from "./reconnect-options.ts";
import { detectHeaderStyle, type HeaderStyle, type WebSocketConstructor } from "./websocket.ts";

/** Options of `connect`. Every field is optional. */
export interface ConnectOptions {
  /** The server's token. Absent: no token is sent (a server run with `--no-auth`). */
  token?: string;
  /**
   * How the token travels. Default: `"header"` (`Authorization: Bearer`) where the WebSocket class
   * takes headers (Bun's, `ws`), else `"subprotocol"` (`bunker.token.<token>`, for browsers).
   */
  tokenVia?: "header" | "subprotocol";
  /** The WebSocket class. Default: `globalThis.WebSocket` (browsers, Bun, Node >= 22); the Node entry passes `ws`. */
  WebSocket?: WebSocketConstructor;
  /**
   * Reconnect to a session after its socket dropped: `session.resume` of the earlier connection.
   * `replaces`: that connection's `session.connection`, which the server then cuts before it greets
   * this one, so that nothing the old socket still carries (a stalled relay) arrives after.
   */
  resume?: { session: string; secret: string; replaces?: string };
  /**
   * Join a session as a viewer: `session.view` of a connection of it. No token is needed; the
   * server sends output and exec states and refuses everything that acts (docs/PROTOCOL.md, Viewers).
   * Not with `resume`, `name` or `routable`.
   */
  view?: { session: string; secret: string };
  /** Join the named session, creating it if the server has none of that name. */
  name?: string;
  /**
   * Create the new session with an id chosen here (128 random bits, `?session=<id>&create=1`), so
   * that a load balancer hashing on the session id sends it where its resumes will go
   * (docs/SCALING.md). Not with `resume` or `name`.
   */
  routable?: boolean;
  /**
   * How long the session's commands keep running once no socket is joined (`?detachTtlMs=`), in
   * milliseconds, at least 1000; the server takes at most its own `--detach-ttl`. Default: the
   * server's. `hello.detachTtlMs` says what the session has.
   */
  detachTtlMs?: number;
  /** Receives `error` messages that no exec and no request claims. */
  onError?: (error: BunkerError) => void;
  /**
   * How long `connect` waits for `hello` (the TCP and TLS connection, the upgrade and the server's
   * first message together) before it gives up with `connect_failed`. Default 30000; 0 waits forever.
   */
  connectTimeoutMs?: number;
  /**
   * Noticing a dead connection: after `idleMs` (default 15000) without any message the session
   * sends `ping`, and when nothing at all arrives within `timeoutMs` (default 10000) after it, drops
   * the socket and fails what waits with `connection_closed`, as a network drop does. `false`: never.
   */
  keepalive?: boolean | Partial<KeepaliveOptions>;
  /**
   * Resume the session by itself when its socket drops (not after `disconnect()` or `close()`):
   * attempts at once, then after 0.25, 0.5, 1, 2, 4, 5, 5... s, for up to `timeoutMs` (30000).
   * Exec handles go on from the bytes they hold; see docs/CLIENT.md, "Reconnecting by itself". Default off.
   */
  reconnect?: boolean | ReconnectOptions;
}

/** Everything `connect` needs to open the socket, with defaults applied and misuse rejected. */
export interface ResolvedConnectOptions {
  url: string;
  protocols: string[];
  headers: Record<string, string>;
  WebSocket: WebSocketConstructor;
  headerStyle: HeaderStyle;
  onError: ((error: BunkerError) => void) | undefined;
  /** 0: no timeout. */
  connectTimeoutMs: number;
  /** Undefined: no keepalive. */
  keepalive: KeepaliveOptions | undefined;
  /** Undefined: a drop is the end, as without the option. */
  reconnect: ResolvedReconnect | undefined;
}

/** The default of `connectTimeoutMs`: far above a slow TLS handshake, far below "forever". */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;


/** Characters an HTTP token (and so a subprotocol) may hold. */
const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Applies the defaults of `connect` in one place. Throws a TypeError on misuse; never quotes a secret. */
export function resolveConnectOptions(url: string | URL, options: ConnectOptions): ResolvedConnectOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`connect: ${JSON.stringify(String(url))} is not a URL`);
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new TypeError(`connect: ${JSON.stringify(parsed.href)} is not a ws: or wss: URL`);
  }
  if (options.resume && options.name !== undefined) throw new TypeError("connect: resume names its session already; give resume or name, not both");
  if (options.name !== undefined) {
    if (typeof options.name !== "string" || options.name.length === 0) throw new TypeError(`connect: name must be a non-empty string, got ${JSON.stringify(options.name)}`);
    parsed.searchParams.set(NAME_QUERY_PARAM, options.name);
  }
  if (options.routable) {
    if (options.resume || options.name !== undefined) throw new TypeError("connect: routable creates a new session; not with resume or name");
    parsed.searchParams.set(SESSION_QUERY_PARAM, newSessionId());
    parsed.searchParams.set(CREATE_QUERY_PARAM, "1");
  }
  if (options.detachTtlMs !== undefined) {
    if (!Number.isSafeInteger(options.detachTtlMs) || options.detachTtlMs < MIN_DETACH_TTL_MS) {
      throw new TypeError(`connect: detachTtlMs must be a whole number of milliseconds, at least ${MIN_DETACH_TTL_MS}, got ${JSON.stringify(options.detachTtlMs)}`);
    }
    parsed.searchParams.set(DETACH_TTL_QUERY_PARAM, String(options.detachTtlMs));
  }
  const protocols = [SUBPROTOCOL];
  if (options.view) {
    if (options.resume || options.name !== undefined || options.routable) throw new TypeError("connect: view joins the session it names; not with resume, name or routable");
    const { session, secret } = options.view;
    if (typeof session !== "string" || session.length === 0) throw new TypeError(`connect: view.session must be a session id, got ${JSON.stringify(session)}`);
    if (typeof secret !== "string" || !TOKEN_CHARS.test(secret)) throw new TypeError("connect: view.secret must be the session's viewSecret");
    parsed.searchParams.set(SESSION_QUERY_PARAM, session);
    protocols.push(`${VIEW_SUBPROTOCOL_PREFIX}${secret}`);
  }
  if (options.resume) {
    const { session, secret } = options.resume;
    if (typeof session !== "string" || session.length === 0) throw new TypeError(`connect: resume.session must be a session id, got ${JSON.stringify(session)}`);
    if (typeof secret !== "string" || !TOKEN_CHARS.test(secret)) throw new TypeError("connect: resume.secret must be the session's resumeSecret");
    parsed.searchParams.set(SESSION_QUERY_PARAM, session);
    protocols.push(`${RESUME_SUBPROTOCOL_PREFIX}${secret}`);
    const { replaces } = options.resume;
    if (replaces !== undefined) {
      if (typeof replaces !== "string" || replaces.length === 0) throw new TypeError(`connect: resume.replaces must be a connection id, got ${JSON.stringify(replaces)}`);
      parsed.searchParams.set(REPLACES_QUERY_PARAM, replaces);
    }
  }

  const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof WebSocketClass !== "function") {
    throw new TypeError("connect: this runtime has no global WebSocket; pass one ({ WebSocket }), or in Node use the client's node entry, which brings `ws`");
  }
  const headerStyle = detectHeaderStyle(WebSocketClass);
  const headers: Record<string, string> = {};
  if (options.token !== undefined) {
    if (typeof options.token !== "string" || options.token.length === 0) throw new TypeError("connect: token must be a non-empty string");
    const via = options.tokenVia ?? (headerStyle === "none" ? "subprotocol" : "header");
    if (via === "header") {
      if (headerStyle === "none") throw new TypeError('connect: this WebSocket class cannot send headers; use tokenVia: "subprotocol"');
      headers["authorization"] = `Bearer ${options.token}`;
    } else if (via === "subprotocol") {
      if (!TOKEN_CHARS.test(options.token)) throw new TypeError("connect: the token holds characters a subprotocol cannot carry; send it as a header");
      protocols.push(`${TOKEN_SUBPROTOCOL_PREFIX}${options.token}`);
    } else {
      throw new TypeError(`connect: tokenVia must be "header" or "subprotocol", got ${JSON.stringify(via)}`);
    }
  }
  const connectTimeoutMs = options.connectTimeoutMs === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : checkTimerMs("connectTimeoutMs", options.connectTimeoutMs, 0);
  return { url: parsed.href, protocols, headers, WebSocket: WebSocketClass, headerStyle, onError: options.onError, connectTimeoutMs, keepalive: resolveKeepalive(options.keepalive), reconnect: resolveReconnectOptions(options.reconnect) };
}

function resolveKeepalive(keepalive: ConnectOptions["keepalive"]): KeepaliveOptions | undefined {
  if (keepalive === false) return undefined;
  if (keepalive === undefined || keepalive === true) return DEFAULT_KEEPALIVE;
  if (typeof keepalive !== "object" || keepalive === null) throw new TypeError(`connect: keepalive must be true, false or { idleMs, timeoutMs }, got ${JSON.stringify(keepalive)}`);
  return {
    idleMs: keepalive.idleMs === undefined ? DEFAULT_KEEPALIVE.idleMs : checkTimerMs("keepalive.idleMs", keepalive.idleMs, 1),
    timeoutMs: keepalive.timeoutMs === undefined ? DEFAULT_KEEPALIVE.timeoutMs : checkTimerMs("keepalive.timeoutMs", keepalive.timeoutMs, 1),
  };
}

function checkTimerMs(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > MAX_TIMEOUT_MS) {
    throw new TypeError(`connect: ${name} must be an integer number of milliseconds from ${min} to ${MAX_TIMEOUT_MS}, got ${typeof value === "number" ? value : JSON.stringify(value)}`);
  }
  return value;
}
