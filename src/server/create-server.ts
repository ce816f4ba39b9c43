import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Server, ServerWebSocket } from "bun";
import { CLOSE_CODES, decodeClientMessage, PROTOCOL_VERSION, WEBSOCKET_PATH, type HelloMessage } from "../protocol/index.ts";
import { createWorkspace } from "../workspace/create.ts";
import { VERSION } from "../version.ts";
import { chosenSubprotocol, isAuthorized, offeredSubprotocols } from "./auth.ts";
import { isOriginAllowed } from "./origin.ts";
import { createConnectionSink, type ConnectionSink } from "./connection-sink.ts";
import { Session, type ServerCounters } from "./session.ts";
import type { ServerOptions } from "./options.ts";
import { handleFileHttp } from "./file-http.ts";

/** HTTP file transfer lives under this path (see serveFileHttp). */
const FILES_PATH_PREFIX = "/files/";

interface ConnectionData {
  sessionId: string;
  sink?: ConnectionSink;
  session?: Session;
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

function newSessionId(): string {
  return randomBytes(12).toString("base64url");
}

/** Starts Bun.serve with the WebSocket endpoint and returns once it listens. */
export function createServer(options: ServerOptions): BunkerServer {
  const sessions = new Set<Session>();
  const sockets = new Set<ServerWebSocket<ConnectionData>>();
  const counters: ServerCounters = { runningExecs: 0 };
  let stopping = false;

  const server: Server<ConnectionData> = Bun.serve<ConnectionData>({
    hostname: options.host,
    port: options.port,
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
        data: { sessionId: newSessionId() },
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
        let workspace;
        try {
          workspace = createWorkspace(options.workspaceRoot, ws.data.sessionId);
        } catch (error) {
          ws.close(CLOSE_CODES.internalError, `cannot create the workspace: ${(error as Error).message}`.slice(0, 120));
          return;
        }
        const session = new Session(ws.data.sessionId, workspace, options, counters, sink);
        ws.data.session = session;
        sessions.add(session);
        sockets.add(ws);
        const hello: HelloMessage = {
          type: "hello",
          protocol: PROTOCOL_VERSION,
          version: VERSION,
          session: session.id,
          resumeSecret: randomBytes(24).toString("base64url"),
          resumed: false,
          execs: [],
          host: hostname(),
          workspace: workspace.path,
          sandbox: options.sandbox.info,
        };
        sink.send(JSON.stringify(hello));
      },
      message(ws, message) {
        const session = ws.data.session;
        if (!session) return;
        if (typeof message !== "string") {
          session.sendError("bad_message", "binary frames are not messages; send JSON text frames");
          return;
        }
        const decoded = decodeClientMessage(message);
        if (!decoded.ok) {
          session.sendError("bad_message", decoded.problem, decoded.id);
          return;
        }
        try {
          session.handle(decoded.message);
        } catch (error) {
          session.sendError("internal", `handling ${decoded.message.type} failed: ${(error as Error).message}`, "id" in decoded.message ? decoded.message.id : undefined);
        }
      },
      drain(ws) {
        ws.data.sink?.onDrain();
      },
      close(ws) {
        sockets.delete(ws);
        ws.data.sink?.onClose();
        const session = ws.data.session;
        if (!session) return;
        sessions.delete(session);
        void session.close();
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
    const session = sessionId === null ? undefined : [...sessions].find((candidate) => candidate.id === sessionId);
    if (!session) return new Response("unknown_session: no session with that id on this server\n", { status: 404 });
    let relativePath: string;
    try {
      relativePath = decodeURIComponent(url.pathname.slice(FILES_PATH_PREFIX.length));
    } catch {
      return new Response("bad_message: the path is not valid percent-encoding\n", { status: 400 });
    }
    return handleFileHttp(request, relativePath, { workspace: session.workspace.path, owner: undefined, quotaBytes: undefined });
  }

  const port = server.port ?? options.port;
  const url = new URL(`ws://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}${WEBSOCKET_PATH}`);

  return {
    url,
    port,
    async stop() {
      stopping = true;
      for (const ws of sockets) ws.close(CLOSE_CODES.goingAway, "server shutting down");
      const closing = [...sessions].map((session) => session.close());
      sessions.clear();
      await Promise.allSettled(closing);
      await server.stop(true);
    },
  };
}
