import type { Server, ServerWebSocket } from "bun";
import { CLOSE_CODES, decodeClientMessage, WEBSOCKET_PATH } from "../protocol/index.ts";
import { buildHello } from "./hello-message.ts";
import { isLoopbackHost } from "../config/loopback.ts";
import { isHostAllowed } from "./origin.ts";
import { createConnectionSink } from "./connection-sink.ts";
import type { ServerCounters, SessionConnection } from "./session.ts";
import { SessionRegistry } from "./session-registry.ts";
import { closeReasonOf, refusalOf } from "./session-request.ts";
import { describeSandbox } from "./describe-sandbox.ts";
import type { ServerEvents, ServerOptions } from "./options.ts";
import { FILES_PATH_PREFIX, serveFileRoute } from "./file-route.ts";
import { terminalPage } from "../web/page.ts";
import { createPageResponder } from "./page-routes.ts";
import { createServerMetrics, outputSoFar } from "./metrics.ts";
import { METRICS_PATH, metricsResponse } from "./metrics-http.ts";
import { HEALTHZ_PATH, healthzResponse } from "./healthz.ts";
import { wantsStrictTransportSecurity, withStrictTransportSecurity } from "./transport-security.ts";
import { createConnectionLimits } from "./connection-limits.ts";
import { createRefusalLog, execAuditFields } from "./log-audit.ts";
import { watchLiveness } from "./liveness.ts";
import { createUpgrade, type ConnectionData } from "./upgrade.ts";
import { createWatchBudget, serverWatchLimit } from "../files/watch-budget.ts";
import { DEFAULT_FILE_LIMITS } from "../files/limits.ts";

/** A running bunker server. */
export interface BunkerServer {
  readonly url: URL;
  readonly port: number;
  /** Closes every socket with 1001, kills every process tree, and stops listening. */
  stop(): Promise<void>;
}

/** Past this much queued for one client the connection is closed rather than a frame dropped. */
const BACKPRESSURE_LIMIT_BYTES = 64 * 1024 * 1024;

/** Starts Bun.serve with the WebSocket endpoint and returns once it listens. */
export function createServer(options: ServerOptions): BunkerServer {
  const log = options.logger;
  const sockets = new Set<ServerWebSocket<ConnectionData>>();
  const sandboxInfo = describeSandbox(options);
  const counters: ServerCounters = { runningExecs: 0, execSlots: 0, runningOutput: new Set(), watchedDirectories: createWatchBudget(serverWatchLimit(), "the server") };
  const metrics = createServerMetrics();
  const events: ServerEvents = {
    onExecStart: (event) => log.info("exec.start", execAuditFields(event)),
    onExecEnd(event) {
      metrics.execFinished(event.exec.exit?.reason ?? "killed", event.exec.bytes);
      log.info("exec.end", execAuditFields(event));
    },
  };
  const sessions = new SessionRegistry({ ...options, events }, counters);
  const limits = createConnectionLimits(options.limits.maxConnections, options.limits.maxConnectionsPerAddress);
  const logRefusal = createRefusalLog(log);
  const secure = options.tls !== undefined;
  // Bound to loopback: only loopback names are its own (see isOriginAllowed, DNS rebinding).
  const loopbackOnly = isLoopbackHost(options.host);
  let stopping = false;
  // The terminal page and its hashed files, with its security headers; everything else is a 404.
  const page = createPageResponder(terminalPage, (error) => log.error("page.load_failed", { error: error.message }));

  const sandboxLabels = { backend: sandboxInfo.backend, network: sandboxInfo.network ?? options.allowNetwork };
  const snapshot = () => ({
    sessions: sessions.countByConnection(),
    connectionsOpen: limits.open,
    execsRunning: counters.runningExecs,
    runningOutputBytes: outputSoFar(counters.runningOutput),
    sandbox: sandboxLabels,
  });

  const upgrade = createUpgrade({ options, secure, loopbackOnly, limits, metrics, logRefusal, isStopping: () => stopping });

  /** Counts one frame against the socket's rate: false once past it, and the socket is closed with 4029. */
  const takeFrame = (ws: ServerWebSocket<ConnectionData>, arrivedMs: number): boolean => {
    const data = ws.data;
    if (data.rateLimited) return false;
    if (data.rate.take(arrivedMs)) return true;
    data.rateLimited = true;
    ws.close(CLOSE_CODES.rateLimited, `more than ${options.limits.maxMessagesPerSecond} messages a second`);
    return false;
  };

  /** Every HTTP request whose Host makes a URL: the routes of the server's own, the socket's upgrade, the page. */
  const route = (request: Request, url: URL, server: Server<ConnectionData>): Response | Promise<Response> | undefined => {
    // Without a token, a rebound name is refused on every route, not only where an Origin is sent.
    if (loopbackOnly && options.token === undefined && !isHostAllowed(request, options.allowedOrigins)) {
      return new Response("host not allowed: a server on loopback without a token answers only loopback names\n", { status: 403 });
    }
    if (url.pathname === HEALTHZ_PATH) return healthzResponse(request, { stopping, host: options.hostId, sandbox: sandboxInfo.backend });
    if (url.pathname === METRICS_PATH) return metricsResponse(request, options.metricsPublic ? undefined : options.token, () => metrics.render(snapshot()));
    if (url.pathname.startsWith(FILES_PATH_PREFIX)) return serveFileRoute(request, url, { sessions, options, secure, loopbackOnly });
    if (url.pathname !== WEBSOCKET_PATH) return page(request, url.pathname);
    return upgrade(request, url, server);
  };

  const server: Server<ConnectionData> = Bun.serve<ConnectionData>({
    hostname: options.host,
    port: options.port,
    ...(options.tls && { tls: { cert: options.tls.cert, key: options.tls.key } }),
    // Production mode from source too: Bun's error pages show no stack trace.
    development: false,
    // Bun's default (128 MiB) refused a larger PUT /files/ with a bare 413 and no X-Bunker-Error
    // (found by a review); the body is streamed to the file, and the route holds its own limits
    // (the transfer cap, the quota) with the file API's words.
    maxRequestBodySize: DEFAULT_FILE_LIMITS.maxTransferBytes,
    fetch(request, server) {
      // A Host header that makes no URL (`127.0.0.1:80:evil.com`) is the client's mistake, not a 500
      // with a stack trace in the log that anyone who reaches the port could cause.
      const url = URL.parse(request.url);
      if (url === null) return new Response("bad_message: the Host header is not a host\n", { status: 400, headers: { "x-bunker-error": "bad_message" } });
      const answer = route(request, url, server);
      // Served over TLS here: every answer tells browsers to ask this host over TLS only (but localhost and addresses, see there).
      return secure && wantsStrictTransportSecurity(url.hostname) ? withStrictTransportSecurity(answer) : answer;
    },
    websocket: {
      maxPayloadLength: options.limits.maxFrameBytes,
      backpressureLimit: BACKPRESSURE_LIMIT_BYTES,
      closeOnBackpressureLimit: true,
      perMessageDeflate: false,
      idleTimeout: options.limits.idleTimeoutSeconds,
      sendPings: true,
      open(ws) {
        limits.opened(ws.data.remote);
        const sink = createConnectionSink(ws as ServerWebSocket<unknown>, metrics.errorSent);
        ws.data.sink = sink;
        sockets.add(ws);
        const askedTtl = ws.data.detachTtl;
        const request = ws.data.request;
        ws.data.detachTtl = undefined;
        ws.data.request = undefined;
        if (askedTtl && "problem" in askedTtl) {
          metrics.connectionRejected("bad_detach_ttl");
          sink.send(JSON.stringify({ type: "error", code: "bad_message", message: askedTtl.problem }));
          ws.close(CLOSE_CODES.policyViolation, closeReasonOf(askedTtl.problem));
          return;
        }
        if (!request) return;
        const opened = sessions.open(request);
        if ("code" in opened) {
          const refusal = refusalOf(opened);
          metrics.connectionRejected(refusal.reason);
          sink.send(JSON.stringify({ type: "error", code: opened.code, message: opened.message }));
          ws.close(refusal.closeCode, closeReasonOf(opened.message));
          return;
        }
        // Opened counts sockets that became sessions: a refusal above is counted by its reason instead.
        metrics.connectionOpened();
        const { session, resumed } = opened;
        const viewer = opened.viewer === true;
        // Before anything subscribes it (a viewer's subscriptions never pace a command), and before
        // it joins: the session tells a viewer by its sink.
        if (viewer) sink.viewer = true;
        // The client says its old socket is dead (its keepalive gave up on it) but the server may
        // still hold it, and a stalled relay could yet deliver stdin through it: after the resend
        // from hello's stdin counts, those bytes would arrive twice. Cut first, then count. (A
        // viewer cuts nothing: it may not act on the session.)
        if (resumed && !viewer && ws.data.replaces !== undefined) {
          for (const other of sockets) {
            if (other !== ws && other.data.session === session && other.data.connectionId === ws.data.replaces) other.terminate();
          }
        }
        // What applies when this socket is the last to leave (see Session.detachTtlMs).
        const detachTtlMs = askedTtl && !viewer ? Math.min(askedTtl.ms, options.detachTtlMs) : undefined;
        const connection: SessionConnection = sink;
        ws.data.session = session;
        ws.data.connection = connection;
        sink.send(JSON.stringify(buildHello(session, { connectionId: ws.data.connectionId, resumed, viewer, detachTtlMs }, options, sandboxInfo)));
        session.join(connection, detachTtlMs);
        log.debug("connection.open", { remote: ws.data.remote, auth: ws.data.auth, session: session.id, resumed, ...(viewer && { viewer }) });
      },
      message(ws, message) {
        const arrivedMs = performance.now();
        metrics.messageReceived();
        const data = ws.data;
        data.heardAtMs = arrivedMs;
        if (data.rateLimited) return;
        data.messages++;
        if (!takeFrame(ws, arrivedMs)) return;
        const { session, connection } = data;
        if (!session || !connection) return;
        if (typeof message !== "string") {
          session.sendError(connection, "bad_message", "binary frames are not messages; send JSON text frames");
          return;
        }
        const decoded = decodeClientMessage(message);
        if (!decoded.ok) {
          session.sendError(connection, "bad_message", decoded.problem, decoded.id);
          return;
        }
        const runningBefore = counters.runningExecs;
        try {
          session.handle(connection, decoded.message);
        } catch (error) {
          const id = "id" in decoded.message ? decoded.message.id : undefined;
          session.sendError(connection, "internal", `handling ${decoded.message.type} failed: ${(error as Error).message}`, id);
        }
        // An exec is spawned synchronously: it started if the running count went up.
        if (decoded.message.type === "exec" && counters.runningExecs > runningBefore) metrics.execStarted(performance.now() - arrivedMs);
      },
      drain(ws) {
        ws.data.sink?.onDrain();
        const { session, connection } = ws.data;
        if (session && connection) session.drained(connection);
      },
      // Control frames count against the rate too: Bun answers each ping itself, and 5,000 pings a
      // second went through where the limit is N frames a second (found by a review).
      pong(ws) {
        ws.data.heardAtMs = performance.now();
        takeFrame(ws, ws.data.heardAtMs);
      },
      ping(ws) {
        ws.data.heardAtMs = performance.now();
        takeFrame(ws, ws.data.heardAtMs);
      },
      close(ws, code, reason) {
        sockets.delete(ws);
        limits.closed(ws.data.remote);
        metrics.connectionClosed(code);
        ws.data.sink?.onClose();
        const { session, connection } = ws.data;
        if (session && connection) session.leave(connection);
        const fields = {
          remote: ws.data.remote,
          auth: ws.data.auth,
          session: session?.id,
          code,
          ...(reason && { reason: reason.slice(0, 120) }),
          durationMs: Date.now() - ws.data.openedAtMs,
          messages: ws.data.messages,
        };
        // No token: a view secret that matched nothing costs its client as little as a wrong token,
        // and a viewer may open and close sockets as fast: their lines come out of the refusal
        // budget, or anyone who reaches the port could fill the disk (found by a review of viewers).
        if (ws.data.auth === "view") logRefusal("connection.close", fields);
        else log.info("connection.close", fields);
      },
    },
  });

  const liveness = watchLiveness(sockets, options.limits.idleTimeoutSeconds * 1000);
  const port = server.port ?? options.port;
  const scheme = secure ? "wss" : "ws";
  const url = new URL(`${scheme}://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}${WEBSOCKET_PATH}`);

  return {
    url,
    port,
    async stop() {
      stopping = true;
      liveness.stop();
      for (const ws of sockets) ws.close(CLOSE_CODES.goingAway, "server shutting down");
      await sessions.closeAll();
      await server.stop(true);
    },
  };
}
