import { SESSION_QUERY_PARAM } from "../protocol/index.ts";
import { isAuthorized } from "./auth.ts";
import { FileError } from "../files/file-error.ts";
import { fileErrorResponse } from "../files/http-status.ts";
import { handleFileHttp } from "./file-http.ts";
import type { ServerOptions } from "./options.ts";
import { isOriginAllowed } from "./origin.ts";
import type { SessionRegistry } from "./session-registry.ts";

/** HTTP file transfer lives under this path. */
export const FILES_PATH_PREFIX = "/files/";

/** What the file route needs of its server. */
export interface FileRouteContext {
  readonly sessions: SessionRegistry;
  readonly options: ServerOptions;
  /** Whether the server speaks TLS, which its own origin depends on. */
  readonly secure: boolean;
  /** The server is bound to loopback: only loopback names are its own origin (see isOriginAllowed). */
  readonly loopbackOnly: boolean;
}

/** The answer for an id this server does not hold. Built anew each time: a Response's body can be read only once. */
function unknownSessionResponse(): Response {
  return new Response("unknown_session: no session with that id lives on this server\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8", "x-bunker-error": "unknown_session" },
  });
}

/**
 * `GET`/`HEAD`/`PUT /files/<path>?session=<id>`: the token in `Authorization: Bearer`, never in the
 * URL; the session id in the query, where a load balancer can route on it. Checked in this order:
 * origin (403), token (401), session (404), then the path and the method.
 */
export async function serveFileRoute(request: Request, url: URL, context: FileRouteContext): Promise<Response> {
  const { options } = context;
  if (!isOriginAllowed(request, options.allowedOrigins, context.secure, context.loopbackOnly)) return new Response("origin not allowed\n", { status: 403 });
  if (!isAuthorized(request, [], options.token)) {
    return new Response("missing or wrong token\n", { status: 401, headers: { "www-authenticate": "Bearer" } });
  }
  const sessionId = url.searchParams.get(SESSION_QUERY_PARAM);
  const session = sessionId === null ? undefined : context.sessions.forFileRequest(sessionId);
  if (!session) return unknownSessionResponse();
  let relativePath: string;
  try {
    relativePath = decodeURIComponent(url.pathname.slice(FILES_PATH_PREFIX.length));
  } catch {
    return fileErrorResponse(new FileError("bad_message", "the path is not valid percent-encoding of UTF-8"));
  }
  // No file name holds NUL (%00): answered here, before any call that would throw on it.
  if (relativePath.includes("\0")) return fileErrorResponse(new FileError("bad_message", "the path must not contain NUL (%00)"));
  // The transfer holds the session as a joined socket would: its TTL must not take the workspace
  // away under a slow PUT or GET. A PUT's body has been read by the time the answer is made.
  const release = session.holdForHttp();
  // A client that goes away before its body is read to the end: Bun aborts the request's signal.
  request.signal.addEventListener("abort", release, { once: true });
  return handleFileHttp(request, relativePath, {
    workspace: session.workspace.path,
    owner: options.runAs,
    quotaBytes: options.workspaceQuotaBytes,
    protectPaths: options.protectPaths,
    release,
    ended: () => session.ended,
  });
}
