import {
  CLOSE_CODES,
  CREATE_QUERY_PARAM,
  DETACH_TTL_QUERY_PARAM,
  MIN_DETACH_TTL_MS,
  NAME_QUERY_PARAM,
  RESUME_SUBPROTOCOL_PREFIX,
  SESSION_QUERY_PARAM,
  VIEW_SUBPROTOCOL_PREFIX,
} from "../protocol/index.ts";
import { subprotocolValue } from "./auth.ts";
import type { RejectReason } from "./metrics.ts";
import type { SessionRefusal, SessionRequest } from "./session-registry.ts";

/**
 * What a socket asks for: `?session=<id>` with a `bunker.resume.<secret>` subprotocol (resume), or
 * with a `bunker.view.<secret>` one (to view it read-only),
 * `?session=<id>&create=1` (a new session with an id the client chose, so that a load balancer
 * hashing on the id routes it where its resumes will go), `?name=<name>`, or a new session.
 */
export function sessionRequestOf(url: URL, subprotocols: readonly string[]): SessionRequest {
  const id = url.searchParams.get(SESSION_QUERY_PARAM);
  const create = url.searchParams.get(CREATE_QUERY_PARAM);
  // `true` as well as `1`: a client that spells the flag as most query strings do must not be taken for a resume.
  if (id !== null && (create === "1" || create === "true")) return { kind: "create", id };
  if (id !== null) {
    const viewSecret = subprotocolValue(subprotocols, VIEW_SUBPROTOCOL_PREFIX);
    if (viewSecret !== undefined) return { kind: "view", id, secret: viewSecret };
    return { kind: "resume", id, secret: subprotocolValue(subprotocols, RESUME_SUBPROTOCOL_PREFIX) };
  }
  const name = url.searchParams.get(NAME_QUERY_PARAM);
  if (name !== null) return { kind: "named", name };
  return { kind: "new" };
}

/**
 * The detach TTL a socket asks for (`?detachTtlMs=`): undefined when it asks for none, or the
 * problem with what it asked for. More than the server's own is taken as the server's.
 */
export function detachTtlOf(url: URL): { ms: number } | { problem: string } | undefined {
  const text = url.searchParams.get(DETACH_TTL_QUERY_PARAM);
  if (text === null) return undefined;
  // More digits than a safe integer holds: longer than any server's TTL, which is what it gets.
  const ms = /^\d{16,}$/.test(text) ? Number.MAX_SAFE_INTEGER : /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(ms >= MIN_DETACH_TTL_MS)) return { problem: `${DETACH_TTL_QUERY_PARAM}: ${JSON.stringify(text.slice(0, 40))} must be a whole number of milliseconds, at least ${MIN_DETACH_TTL_MS}` };
  return { ms };
}

/** A close frame's reason holds 123 bytes: a longer sentence is cut at a word, with an ellipsis (the error message before it has it whole). */
export function closeReasonOf(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let cut = text.slice(0, 118);
  // Never half a surrogate pair (an emoji in a session name came out as U+FFFD).
  while (Buffer.byteLength(cut) > 118 || /[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  const lastSpace = cut.lastIndexOf(" ");
  return `${lastSpace > 60 ? cut.slice(0, lastSpace) : cut}…`;
}

/** How a socket whose session could not be opened is closed, and the reason the metrics count. */
export function refusalOf(refusal: SessionRefusal): { closeCode: number; reason: RejectReason } {
  switch (refusal.code) {
    case "unknown_session":
      return { closeCode: CLOSE_CODES.unknownSession, reason: "unknown_session" };
    case "limit_exceeded":
      return { closeCode: CLOSE_CODES.tryAgainLater, reason: "viewers" in refusal ? "max_viewers" : "max_sessions" };
    case "bad_message":
      return { closeCode: CLOSE_CODES.policyViolation, reason: "bad_session_name" };
    case "internal":
      return { closeCode: CLOSE_CODES.internalError, reason: "workspace" };
  }
}
