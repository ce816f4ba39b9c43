import { HEALTHZ_PATH } from "../protocol/version.ts";

export { HEALTHZ_PATH };

/** The body of `GET /healthz`. It says no more than which instance this is and what it sandboxes with. */
export interface HealthzBody {
  ok: boolean;
  host: string;
  sandbox: string;
}

/**
 * `200 {"ok": true, "host", "sandbox"}` while the server takes connections, `503` with `ok: false`
 * once it is shutting down, so that a load balancer stops sending it clients before it closes them.
 */
export function healthzResponse(request: Request, state: { stopping: boolean; host: string; sandbox: string }): Response {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("GET /healthz\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const body: HealthzBody = { ok: !state.stopping, host: state.host, sandbox: state.sandbox };
  return Response.json(body, { status: state.stopping ? 503 : 200, headers: { "cache-control": "no-store" } });
}
