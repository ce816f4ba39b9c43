import { SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from "../protocol/index.ts";

/**
 * Bun's own hasher and the crypto global's timingSafeEqual: node:crypto cost ~5 ms of the start
 * (common/random-text.ts). The one-shot form: a CryptoHasher object holds ~800 bytes of native
 * state until a GC, per upgrade (measured: idle sessions went from 3.9 to 4.2 KiB each).
 */
function digest(text: string): Uint8Array {
  return Bun.CryptoHasher.hash("sha256", text);
}

/** Compares in constant time: both sides are hashed first, so even their lengths do not leak. */
export function tokensMatch(presented: string, expected: string): boolean {
  return crypto.timingSafeEqual(digest(presented), digest(expected));
}

/** The subprotocols a client offered, in order. */
export function offeredSubprotocols(request: Request): string[] {
  const header = request.headers.get("sec-websocket-protocol");
  if (!header) return [];
  return header.split(",").map((item) => item.trim()).filter((item) => item.length > 0);
}

/** What follows `prefix` in the first offered subprotocol that starts with it (`bunker.token.<token>` and the like). */
export function subprotocolValue(subprotocols: readonly string[], prefix: string): string | undefined {
  return subprotocols.find((item) => item.startsWith(prefix))?.slice(prefix.length);
}

/** The token a client presented: `Authorization: Bearer <token>`, or the `bunker.token.<token>` subprotocol for browsers. */
export function presentedToken(request: Request, subprotocols: readonly string[]): string | undefined {
  const authorization = request.headers.get("authorization");
  const bearer = authorization ? /^bearer\s+(.+)$/i.exec(authorization.trim()) : null;
  if (bearer) return bearer[1];
  return subprotocolValue(subprotocols, TOKEN_SUBPROTOCOL_PREFIX);
}

/** Whether a request may open a session. With no expected token (`--no-auth`) every request may. */
export function isAuthorized(request: Request, subprotocols: readonly string[], expected: string | undefined): boolean {
  if (expected === undefined) return true;
  const presented = presentedToken(request, subprotocols);
  return presented !== undefined && tokensMatch(presented, expected);
}

/** The subprotocol to echo: `bunker.v1` when offered. The token subprotocol is never echoed. */
export function chosenSubprotocol(subprotocols: readonly string[]): string | undefined {
  return subprotocols.includes(SUBPROTOCOL) ? SUBPROTOCOL : undefined;
}
