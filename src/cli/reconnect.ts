import { BunkerError, connect, type Session } from "../client/index.ts";
import { retryOnSchedule } from "../client/reconnect-schedule.ts";
import { finalResumeFailure } from "../client/resume-failure.ts";

/** How a reconnect ended: back in the session, the session gone, refused for good, or out of time. */
export type ReconnectResult =
  | { kind: "resumed"; session: Session }
  | { kind: "gone"; error: BunkerError }
  | { kind: "refused"; error: BunkerError }
  | { kind: "timed_out"; error: unknown }
  | { kind: "abandoned" };

export interface ReconnectOptions {
  url: string;
  token: string | undefined;
  /** With `replaces`, the server cuts the old socket before it greets the new one (see resumable-exec.ts). */
  resume: { session: string; secret: string; replaces?: string };
  /** The whole budget: attempts are made until this long after the call, the last one then. */
  timeoutMs: number;
  /** Checked between attempts: true once nobody waits for the outcome any more. */
  abandoned(): boolean;
  /**
   * A session got back after the outcome was abandoned (`| head` closed meanwhile) is closed, which
   * ends the command, rather than only left: a new session ends with its command (exit 141).
   */
  endIfAbandoned: boolean;
}

/**
 * Resumes a session after its socket dropped: attempts at once, then with doubling waits, until
 * one succeeds or `timeoutMs` has passed (retryOnSchedule). A session the server no longer has
 * (`unknown_session`) and a refused token or origin (401, 403) end it at once, as they end the
 * library's automatic reconnect (finalResumeFailure). Anything else (refused or reset connections,
 * 503 while a server restarts behind a balancer) is tried again.
 */
export async function reconnectSession(options: ReconnectOptions): Promise<ReconnectResult> {
  const result = await retryOnSchedule<Session, unknown>({
    timeoutMs: options.timeoutMs,
    attempt: (connectTimeoutMs) =>
      connect(options.url, {
        ...(options.token !== undefined && { token: options.token }),
        resume: options.resume,
        connectTimeoutMs,
      }),
    isFinal: (error) => finalResumeFailure(error) !== undefined,
    abandoned: options.abandoned,
    letGo: (session) => (options.endIfAbandoned ? session.close().catch(() => {}) : session.disconnect()),
  });
  switch (result.kind) {
    case "succeeded":
      return { kind: "resumed", session: result.value };
    case "final":
      return { kind: finalResumeFailure(result.error)!, error: result.error as BunkerError };
    default:
      return result;
  }
}
