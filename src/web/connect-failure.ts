import { HEALTHZ_PATH } from "../protocol/version.ts";

/** How long the page waits for the health check before it takes the server for unreachable. */
const HEALTH_TIMEOUT_MS = 5_000;

/** Asks the server's health endpoint: its HTTP status, or a rejection when nothing answers. */
export type HealthProbe = () => Promise<number>;

/**
 * A probe of the server's health endpoint (HEALTHZ_PATH, no token needed) beside the page: relative,
 * so that it is the server's under a proxy's path too.
 */
export function fetchHealthStatus(): Promise<number> {
  return fetch(HEALTHZ_PATH.slice(1), { cache: "no-store", signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) }).then((response) => response.status);
}

/** What the page offered the server: its token, nothing, or a read-only link's view secret. */
export type PageCredential = "token" | "none" | "view";

/**
 * Why a WebSocket closed before the server's hello, in words for the person at the page. A browser
 * reports every refused upgrade (401 for the token, 403, 429, 503) as a bare 1006, so the page asks
 * the health endpoint: a server that answers there refused this socket, and the token is by far
 * the likeliest reason; a server that does not answer is down or out of reach. A viewer offers no
 * token, and a wrong view secret is refused after the upgrade (unknown_session), so for it the
 * reason is a limit or the origin.
 */
export async function explainConnectFailure(probe: HealthProbe, credential: PageCredential): Promise<string> {
  let status: number;
  try {
    status = await probe();
  } catch {
    return "the server does not answer (it is down, or out of reach)";
  }
  if (status === 503) return "the server is shutting down";
  if (credential === "view") return "the server refused the connection (too many connections, or this page's address is not an allowed origin)";
  return credential === "token"
    ? "the server refused this page's token; open the address the server printed, which ends in #token=…"
    : "the server wants a token; open the address the server printed, which ends in #token=…";
}
