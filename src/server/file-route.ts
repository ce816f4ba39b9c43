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

/**
 * Carries an anonymous session's resume secret on a file request. A header and never the query:
 * URLs end up in access logs and load-balancer keys, where the session id is fine and a secret not.
 */
export const RESUME_SECRET_HEADER = "x-bunker-resume-secret";

/** What the file route needs of its server. */
export interface FileRouteContext {
  readonly sessions: SessionRegistry;
  readonly options: ServerOptions;
  /** Whether the server speaks TLS, which its own origin depends on. */
  readonly secure: boolean;
  /** The server is bound to loopback: only loopback names are its own origin (see isOriginAllowed). */
  readonly loopbackOnly: boolean;
}

/**
 * The one answer for an unknown id and for a missing or wrong secret, so that ids cannot be probed.
 * Built anew each time: a Response's body can be read only once.
 */
function unknownSessionResponse(): Response {
  return new Response("unknown_session: no session with that id here, or the resume secret is missing or wrong\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8", "x-bunker-error": "unknown_session" },
  });
}

/**
 * `GET`/`HEAD`/`PUT /files/<path>?session=<id>`: the token in `Authorization: Bearer`, and for an
 * anonymous session its resume secret in `X-Bunker-Resume-Secret`, as a resume on the WebSocket
 * needs it. A named session needs the token alone.
 */
export async function serveFileRoute(request: Request, url: URL, context: FileRouteContext): Promise<Response> {
  const { options } = context;
  if (!isOriginAllowed(request, options.allowedOrigins, context.secure, context.loopbackOnly)) return new Response("origin not allowed\n", { status: 403 });
  if (!isAuthorized(request, [], options.token)) {
    return new Response("missing or wrong token\n", { status: 401, headers: { "www-authenticate": "Bearer" } });
  }
  const sessionId = url.searchParams.get(SESSION_QUERY_PARAM);
  const secret = request.headers.get(RESUME_SECRET_HEADER) ?? undefined;
  const session = sessionId === null ? undefined : context.sessions.forFileRequest(sessionId, secret);
  if (!session) return unknownSessionResponse();
  let relativePath: string;
  try {
    relativePath = decodeURIComponent(url.pathname.slice(FILES_PATH_PREFIX.length));
  } catch {
    return fileErrorResponse(new FileError("bad_message", "the path is not valid percent-encoding"));
  }
  // No file name holds NUL (%00): answered here, before any call that would throw on it.
  if (relativePath.includes("\0")) return fileErrorResponse(new FileError("bad_message", "the path must not contain NUL (%00)"));
  return handleFileHttp(request, relativePath, { workspace: session.workspace.path, owner: options.runAs, quotaBytes: options.workspaceQuotaBytes });
}
