import type { Server } from "bun";
import { REPLACES_QUERY_PARAM } from "../protocol/index.ts";
import { randomText } from "../common/random-text.ts";
import { chosenSubprotocol, offeredSubprotocols } from "./auth.ts";
import { clientAddress, type ConnectionLimits } from "./connection-limits.ts";
import type { SocketSink } from "./connection-sink.ts";
import type { LivenessMarks } from "./liveness.ts";
import { authResultOf, type AuthResult } from "./log-audit.ts";
import type { LogFields } from "./log.ts";
import type { RejectReason, ServerMetrics } from "./metrics.ts";
import type { ServerOptions } from "./options.ts";
import { isOriginAllowed } from "./origin.ts";
import { createRateLimiter, type RateLimiter } from "./rate-limit.ts";
import type { Session, SessionConnection } from "./session.ts";
import type { SessionRequest } from "./session-registry.ts";
import { detachTtlOf, sessionRequestOf } from "./session-request.ts";

/** What a socket carries from its upgrade on (Bun's `ws.data`). */
export interface ConnectionData extends LivenessMarks {
  /** What the socket asked for; undefined once its session is open (idle sockets are what a server holds most of). */
  request: SessionRequest | undefined;
  /** `?detachTtlMs=`: what the socket asked for, or what was wrong with it; undefined once used. */
  detachTtl: ReturnType<typeof detachTtlOf>;
  /** This socket's id within its session (hello.connection). */
  connectionId: string;
  /** On a resume: the connection of the same session to cut before this one is greeted. */
  replaces: string | undefined;
  /** The client's address (see clientAddress). */
  remote: string;
  auth: AuthResult;
  openedAtMs: number;
  rate: RateLimiter;
  messages: number;
  /** Set once the connection was closed for its message rate: what still arrives is dropped. */
  rateLimited: boolean;
  sink: SocketSink | undefined;
  session: Session | undefined;
  connection: SessionConnection | undefined;
}

/** What the upgrade step needs of the server. */
export interface UpgradeContext {
  options: ServerOptions;
  /** Whether the server serves TLS itself. */
  secure: boolean;
  /** Whether it is bound to loopback only (see isOriginAllowed). */
  loopbackOnly: boolean;
  limits: ConnectionLimits;
  metrics: Pick<ServerMetrics, "connectionRejected">;
  logRefusal: (event: "connection.refused", fields: LogFields) => void;
  isStopping(): boolean;
}

/**
 * The WebSocket endpoint's HTTP step: checks a request (upgrade header, shutdown, origin, token,
 * subprotocol, connection caps) and upgrades it with its ConnectionData, or answers it with an HTTP
 * error, counted and (within the log budget) logged. Returns undefined once upgraded.
 */
export function createUpgrade({ options, secure, loopbackOnly, limits, metrics, logRefusal, isStopping }: UpgradeContext) {
  /** Answers an upgrade request with an HTTP error, counted and (within the log budget) logged. */
  const refuse = (reason: RejectReason, remote: string, auth: AuthResult | "unchecked", status: number, text: string, headers: Record<string, string> = {}) => {
    metrics.connectionRejected(reason);
    logRefusal("connection.refused", { remote, auth, reason, status });
    return new Response(text, { status, headers });
  };

  return (request: Request, url: URL, server: Server<ConnectionData>): Response | undefined => {
    const remote = clientAddress(server.requestIP(request)?.address, request.headers.get("x-forwarded-for"), options.trustProxy);
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return refuse("not_websocket", remote, "unchecked", 426, "this endpoint speaks WebSocket only\n");
    }
    if (isStopping()) return refuse("shutting_down", remote, "unchecked", 503, "shutting down\n");
    if (!isOriginAllowed(request, options.allowedOrigins, secure, loopbackOnly)) return refuse("origin", remote, "unchecked", 403, "origin not allowed\n");
    const subprotocols = offeredSubprotocols(request);
    const sessionRequest = sessionRequestOf(url, subprotocols);
    const presented = authResultOf(request, subprotocols, options.token);
    // A viewer's credential is its session's view secret, checked as it joins (session-registry.ts).
    const auth = presented === "missing" && sessionRequest.kind === "view" ? "view" : presented;
    if (auth === "missing" || auth === "wrong") {
      return refuse("unauthorized", remote, auth, 401, "missing or wrong token\n", { "www-authenticate": "Bearer" });
    }
    const protocol = chosenSubprotocol(subprotocols);
    // Bun echoes the first offered subprotocol when we choose none, which could be the token.
    if (subprotocols.length > 0 && !protocol) {
      return refuse("subprotocol", remote, auth, 400, "offer the bunker.v1 subprotocol (the token subprotocol goes beside it)\n");
    }
    const capped = limits.check(remote);
    const connections = (count: number) => `${count} connection${count === 1 ? "" : "s"}`;
    if (capped === "too_many_connections") {
      const text = `the server has ${connections(options.limits.maxConnections)} open, its --max-connections; try again later\n`;
      return refuse(capped, remote, auth, 503, text, { "retry-after": "1" });
    }
    if (capped === "too_many_connections_per_address") {
      const text = `this address has ${connections(options.limits.maxConnectionsPerAddress)} open, the server's --max-connections-per-address\n`;
      return refuse(capped, remote, auth, 429, text, { "retry-after": "1" });
    }
    const { maxMessagesPerSecond } = options.limits;
    const data: ConnectionData = {
      request: sessionRequest,
      detachTtl: detachTtlOf(url),
      connectionId: randomText(9, "base64url"),
      replaces: url.searchParams.get(REPLACES_QUERY_PARAM) ?? undefined,
      remote,
      auth,
      openedAtMs: Date.now(),
      heardAtMs: performance.now(),
      pingedAtMs: 0,
      takenAtSweep: -1,
      rate: createRateLimiter(maxMessagesPerSecond, 2 * maxMessagesPerSecond),
      messages: 0,
      rateLimited: false,
      // Set in open(); present from the start so that the object keeps its first shape and its
      // fields inline (added later, they took an out-of-line store of ~150 bytes per socket).
      sink: undefined,
      session: undefined,
      connection: undefined,
    };
    const upgraded = server.upgrade(request, { data, ...(protocol && { headers: { "sec-websocket-protocol": protocol } }) });
    return upgraded ? undefined : refuse("upgrade_failed", remote, auth, 400, "WebSocket upgrade failed\n");
  };
}
