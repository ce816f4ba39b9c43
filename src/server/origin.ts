/**
 * Whether a WebSocket request's Origin may proceed. Without this check any web page the user
 * visits could drive a server on localhost (cross-site WebSocket hijacking). No Origin header means
 * not a browser, which is allowed; otherwise the origin must be the server's own (scheme, host and
 * port as the request's Host header names them) or listed with --allow-origin.
 */
export function isOriginAllowed(request: Request, allowedOrigins: readonly string[], secure: boolean): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  if (allowedOrigins.includes("*") || allowedOrigins.includes(origin)) return true;
  const host = request.headers.get("host");
  if (!host) return false;
  const own = `${secure ? "https" : "http"}://${host}`.toLowerCase();
  return origin.toLowerCase() === own;
}
