import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Server, ServerWebSocket } from "bun";
import {
  CLOSE_CODES,
  decodeClientMessage,
  NAME_QUERY_PARAM,
  PROTOCOL_VERSION,
  RESUME_SUBPROTOCOL_PREFIX,
  SESSION_QUERY_PARAM,
  WEBSOCKET_PATH,
  type HelloMessage,
  type SandboxInfo,
} from "../protocol/index.ts";
import { VERSION } from "../version.ts";
import { chosenSubprotocol, isAuthorized, offeredSubprotocols } from "./auth.ts";
import { isOriginAllowed } from "./origin.ts";
import { createConnectionSink, type ConnectionSink } from "./connection-sink.ts";
import type { ServerCounters, Session, SessionConnection } from "./session.ts";
import { SessionRegistry, type SessionRefusal, type SessionRequest } from "./session-registry.ts";
import type { ServerOptions } from "./options.ts";
import { handleFileHttp } from "./file-http.ts";
import { terminalPage } from "../web/page.ts";

/** HTTP file transfer lives under this path (see serveFileHttp). */
const FILES_PATH_PREFIX = "/files/";

interface ConnectionData {
  request: SessionRequest;
  sink?: ConnectionSink;
  session?: Session;
  connection?: SessionConnection;
}

/** A running bunker server. */
export interface BunkerServer {
  readonly url: URL;
  readonly port: number;
  /** Closes every socket with 1001, kills every process tree, and stops listening. */
  stop(): Promise<void>;
}

/** Past this much queued for one client the connection is closed rather than a frame dropped. */
const BACKPRESSURE_LIMIT_BYTES = 64 * 1024 * 1024;

/** What a socket asks for: `?session=<id>` with a `bunker.resume.<secret>` subprotocol, `?name=<name>`, or a new session. */
function sessionRequestOf(url: URL, subprotocols: readonly string[]): SessionRequest {
  const id = url.searchParams.get(SESSION_QUERY_PARAM);
  if (id !== null) {
    const secret = subprotocols.find((item) => item.startsWith(RESUME_SUBPROTOCOL_PREFIX))?.slice(RESUME_SUBPROTOCOL_PREFIX.length);
    return { kind: "resume", id, secret };
  }
  const name = url.searchParams.get(NAME_QUERY_PARAM);
  if (name !== null) return { kind: "named", name };
  return { kind: "new" };
}

/** What hello says of the sandbox: the backend as detected, and the policy it enforces. */
function describeSandbox(options: ServerOptions): SandboxInfo {
  const { info } = options.sandbox;
  return {
    ...info,
    policy: {
      ...(options.runAs && { runAs: options.runAs }),
      seccomp: info.backend === "bwrap" && options.sandbox.seccomp,
      allowRead: info.backend === "bwrap" ? [...options.allowRead] : [],
      allowWrite: info.backend === "bwrap" ? [...options.allowWrite] : [],
      protect: info.backend === "bwrap" ? [...options.protectPaths] : [],
      rlimits: options.sandbox.rlimits ? { ...options.rlimits } : {},
      ...(info.backend === "bwrap" && { tmpSizeBytes: options.tmpSizeBytes }),
    },
  };
}

function refusalCloseCode(code: SessionRefusal["code"]): number {
  switch (code) {
    case "unknown_session":
      return CLOSE_CODES.unknownSession;
    case "limit_exceeded":
      return CLOSE_CODES.tryAgainLater;
    case "bad_message":
      return CLOSE_CODES.policyViolation;
    case "internal":
      return CLOSE_CODES.internalError;
  }
}

/** Starts Bun.serve with the WebSocket endpoint and returns once it listens. */
export function createServer(options: ServerOptions): BunkerServer {
  const sockets = new Set<ServerWebSocket<ConnectionData>>();
  const sandboxInfo = describeSandbox(options);
  const counters: ServerCounters = { runningExecs: 0 };
  const sessions = new SessionRegistry(options, counters);
  let stopping = false;

  const server: Server<ConnectionData> = Bun.serve<ConnectionData>({
    hostname: options.host,
    port: options.port,
    // Production mode from source too: no hot-reload script injected into the page.
    development: false,
    // The terminal page and its hashed assets, bundled by Bun (into the binary when compiled).
    routes: { "/": terminalPage },
    fetch(request, server) {
      const url = new URL(request.url);
      if (url.pathname.startsWith(FILES_PATH_PREFIX)) return serveFileHttp(request, url);
      if (url.pathname !== WEBSOCKET_PATH) return new Response("not found\n", { status: 404 });
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("this endpoint speaks WebSocket only\n", { status: 426 });
      }
      if (stopping) return new Response("shutting down\n", { status: 503 });
      if (!isOriginAllowed(request, options.allowedOrigins, false)) return new Response("origin not allowed\n", { status: 403 });
      const subprotocols = offeredSubprotocols(request);
      if (!isAuthorized(request, subprotocols, options.token)) {
        return new Response("missing or wrong token\n", { status: 401, headers: { "www-authenticate": "Bearer" } });
      }
      const protocol = chosenSubprotocol(subprotocols);
      // Bun echoes the first offered subprotocol when we choose none, which could be the token.
      if (subprotocols.length > 0 && !protocol) {
        return new Response("offer the bunker.v1 subprotocol (the token subprotocol goes beside it)\n", { status: 400 });
      }
      const upgraded = server.upgrade(request, {
        data: { request: sessionRequestOf(url, subprotocols) },
        ...(protocol && { headers: { "sec-websocket-protocol": protocol } }),
      });
      return upgraded ? undefined : new Response("WebSocket upgrade failed\n", { status: 400 });
    },
    websocket: {
      maxPayloadLength: options.limits.maxFrameBytes,
      backpressureLimit: BACKPRESSURE_LIMIT_BYTES,
      closeOnBackpressureLimit: true,
      perMessageDeflate: false,
      idleTimeout: 120,
      sendPings: true,
      open(ws) {
        const sink = createConnectionSink(ws as ServerWebSocket<unknown>);
        ws.data.sink = sink;
        sockets.add(ws);
        const opened = sessions.open(ws.data.request);
        if ("code" in opened) {
          sink.send(JSON.stringify({ type: "error", code: opened.code, message: opened.message }));
          ws.close(refusalCloseCode(opened.code), opened.message.slice(0, 120));
          return;
        }
        const { session, resumed } = opened;
        const connection: SessionConnection = { sink, close: (code, reason) => ws.close(code, reason) };
        ws.data.session = session;
        ws.data.connection = connection;
        const hello: HelloMessage = {
          type: "hello",
          protocol: PROTOCOL_VERSION,
          version: VERSION,
          session: session.id,
          ...(session.name !== undefined && { name: session.name }),
          resumeSecret: session.resumeSecret,
          resumed,
          execs: resumed ? session.execInfos() : [],
          host: options.hostId,
          workspace: session.workspace.path,
          sandbox: sandboxInfo,
        };
        sink.send(JSON.stringify(hello));
        session.join(connection);
      },
      message(ws, message) {
        const { session, connection } = ws.data;
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
        try {
          session.handle(connection, decoded.message);
        } catch (error) {
          const id = "id" in decoded.message ? decoded.message.id : undefined;
          session.sendError(connection, "internal", `handling ${decoded.message.type} failed: ${(error as Error).message}`, id);
        }
      },
      drain(ws) {
        ws.data.sink?.onDrain();
        const { session, connection } = ws.data;
        if (session && connection) session.drained(connection);
      },
      close(ws) {
        sockets.delete(ws);
        ws.data.sink?.onClose();
        const { session, connection } = ws.data;
        if (session && connection) session.leave(connection);
      },
    },
  });

  /** `GET`/`PUT /files/<path>?session=<id>`: the token in `Authorization: Bearer`, never in the URL. */
  async function serveFileHttp(request: Request, url: URL): Promise<Response> {
    if (!isOriginAllowed(request, options.allowedOrigins, false)) return new Response("origin not allowed\n", { status: 403 });
    if (!isAuthorized(request, [], options.token)) {
      return new Response("missing or wrong token\n", { status: 401, headers: { "www-authenticate": "Bearer" } });
    }
    const sessionId = url.searchParams.get("session");
    const session = sessionId === null ? undefined : sessions.get(sessionId);
    if (!session) return new Response("unknown_session: no session with that id on this server\n", { status: 404 });
    let relativePath: string;
    try {
      relativePath = decodeURIComponent(url.pathname.slice(FILES_PATH_PREFIX.length));
    } catch {
      return new Response("bad_message: the path is not valid percent-encoding\n", { status: 400 });
    }
    return handleFileHttp(request, relativePath, { workspace: session.workspace.path, owner: options.runAs, quotaBytes: options.workspaceQuotaBytes });
  }

  const port = server.port ?? options.port;
  const url = new URL(`ws://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}${WEBSOCKET_PATH}`);

  return {
    url,
    port,
    async stop() {
      stopping = true;
      for (const ws of sockets) ws.close(CLOSE_CODES.goingAway, "server shutting down");
      await sessions.closeAll();
      await server.stop(true);
    },
  };
}
