import { isAuthorized } from "./auth.ts";

/** Prometheus scrapes this path. */
export const METRICS_PATH = "/metrics";

/**
 * `GET /metrics` in the Prometheus text format. With a token it asks for `Authorization: Bearer`
 * like the WebSocket does (Prometheus sends it with `authorization: {credentials: ...}`), unless
 * `--metrics-public`: the counts show how busy the server is and what it refuses, which is for
 * its operators.
 */
export function metricsResponse(request: Request, token: string | undefined, render: () => string): Response {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("GET /metrics\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (!isAuthorized(request, [], token)) {
    return new Response("missing or wrong token\n", { status: 401, headers: { "www-authenticate": "Bearer" } });
  }
  return new Response(render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" } });
}
