/**
 * Strict-Transport-Security of a server that serves TLS itself (`--tls-cert`/`--tls-key`): a
 * browser that has had one answer from it asks this host name only over https for a year, so that
 * an `http://` link or a typed address (a `#token=` in its fragment) is never answered by whoever
 * sits on the network path. On every response, not only the page's: the header is about the host,
 * not a path, and the first answer a browser gets may be a /files/ download or /healthz. No
 * includeSubDomains: bunker does not know what else its domain serves. Never over plain http, where
 * browsers ignore it anyway; behind a proxy that ends TLS the proxy sends it (deploy/nginx).
 */
export const STRICT_TRANSPORT_SECURITY = "max-age=31536000";

/** A fetch handler's answer: a response, one to come, or none (a WebSocket upgrade). */
type Answer = Response | Promise<Response> | undefined;

function marked(response: Response): Response {
  response.headers.set("strict-transport-security", STRICT_TRANSPORT_SECURITY);
  return response;
}

/** `answer` with Strict-Transport-Security set on its response (an upgrade has none to set it on). */
export function withStrictTransportSecurity(answer: Answer): Answer {
  if (answer instanceof Promise) return answer.then(marked);
  return answer && marked(answer);
}
