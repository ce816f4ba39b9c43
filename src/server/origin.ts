import { isLoopbackHost } from "../config/loopback.ts";

/**
 * Whether a WebSocket request's Origin may proceed. Without this check any web page the user
 * visits could drive a server on localhost (cross-site WebSocket hijacking). No Origin header means
 * not a browser, which is allowed; otherwise the origin must be the server's own (scheme, host and
 * port as the request's Host header names them) or listed with --allow-origin.
 *
 * A server bound to loopback (`loopbackOnly`) takes only a loopback name as its own: a page whose
 * own name was rebound to 127.0.0.1 (DNS rebinding) sends a Host that matches its Origin, and would
 * otherwise pass, which matters most to a server run with --no-auth.
 */
export function isOriginAllowed(request: Request, allowedOrigins: readonly string[], secure: boolean, loopbackOnly = false): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  if (allowedOrigins.includes("*") || allowedOrigins.includes(origin)) return true;
  // The allowed origins are normalised once, in the settings (normalOrigin); a browser sends its
  // origin normalised already, so this catches only a client that writes it by hand.
  const normal = normalOrigin(origin);
  if (normal !== undefined && allowedOrigins.includes(normal)) return true;
  const host = request.headers.get("host");
  if (!host) return false;
  const own = `${secure ? "https" : "http"}://${host}`.toLowerCase();
  if (origin.toLowerCase() !== own) return false;
  return !loopbackOnly || isLoopbackHost(hostnameOf(host));
}

/**
 * Whether a server that trusts its network position alone (bound to loopback, with --no-auth) may
 * answer a request with this Host: a loopback name, or the host of an --allow-origin origin. A page
 * whose own name was rebound to 127.0.0.1 (DNS rebinding) is the server's own origin to the
 * browser, and a same-origin GET carries no Origin header: only its Host tells it apart (found by
 * a review: GET /files/<path>?session=<name> read a named session's files, and /metrics the
 * server's). No Host (HTTP/1.0) is no browser. A server with a token needs no such check: the
 * page does not have the token.
 */
export function isHostAllowed(request: Request, allowedOrigins: readonly string[]): boolean {
  const host = request.headers.get("host")?.toLowerCase();
  if (host === undefined || isLoopbackHost(hostnameOf(host)) || allowedOrigins.includes("*")) return true;
  return allowedOrigins.some((origin) => URL.parse(origin)?.host === host);
}

/** The name in a Host header, without its port: `[::1]:7681` is `[::1]`, `localhost:7681` is `localhost`. */
function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon < 0 ? host : host.slice(0, colon);
}

/** An origin as browsers serialise it: lower-case scheme and host, no default port, no path; undefined when it is not one. */
export function normalOrigin(origin: string): string | undefined {
  try {
    const { origin: normal } = new URL(origin);
    return normal === "null" ? undefined : normal;
  } catch {
    return undefined;
  }
}
