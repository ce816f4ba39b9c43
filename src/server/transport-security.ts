import { ipVersionOf } from "../common/ip-address.ts";

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

/**
 * Whether a request over TLS for `hostname` (its URL's, lower case) gets Strict-Transport-Security:
 * not for `localhost` (or a name under it) or an IP address. Browsers keep the header for a host
 * name on every port, so a TLS bunker tried on https://localhost:8443/ made every plain-http
 * development server of that machine unreachable in that browser for a year; and browsers ignore
 * it for IP addresses (RFC 6797, 8.1.1), which no certificate authority names anyway.
 */
export function wantsStrictTransportSecurity(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, "$1");
  return host !== "localhost" && !host.endsWith(".localhost") && ipVersionOf(host) === 0;
}

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
