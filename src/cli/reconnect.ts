import { BunkerError, connect, type Session } from "../client/index.ts";
import { RECONNECT_ATTEMPT_TIMEOUT_MS, reconnectDelayMs } from "../client/reconnect-schedule.ts";
import { handshakeStatus } from "./connect-failure.ts";

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
 * one succeeds or `timeoutMs` has passed. A session the server no longer has (`unknown_session`)
 * and a refused token (401, 403) end it at once: no later attempt can do better. Anything else
 * (refused or reset connections, 503 while a server restarts behind a balancer) is tried again.
 */
export async function reconnectSession(options: ReconnectOptions): Promise<ReconnectResult> {
  const deadline = Date.now() + options.timeoutMs;
  // Set by the first attempt, which is made whatever the budget: only a later one can run out of time.
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    const leftMs = deadline - Date.now();
    if (attempt > 0 && leftMs <= 0) return { kind: "timed_out", error: lastError };
    // The last wait is cut short, so that one attempt is made at the deadline.
    const delayMs = Math.min(reconnectDelayMs(attempt), leftMs);
    if (delayMs > 0) await Bun.sleep(delayMs);
    if (options.abandoned()) return { kind: "abandoned" };
    const budgetMs = Math.min(RECONNECT_ATTEMPT_TIMEOUT_MS, Math.max(deadline - Date.now(), 1));
    const attemptStart = Date.now();
    try {
      const session = await connect(options.url, {
        ...(options.token !== undefined && { token: options.token }),
        resume: options.resume,
        connectTimeoutMs: budgetMs,
      });
      if (options.abandoned()) {
        await (options.endIfAbandoned ? session.close().catch(() => {}) : session.disconnect());
        return { kind: "abandoned" };
      }
      return { kind: "resumed", session };
    } catch (error) {
      if (error instanceof BunkerError) {
        if (error.code === "unknown_session" || error.code === "session_closed") return { kind: "gone", error };
        const status = handshakeStatus(error);
        if (status === 401 || status === 403) return { kind: "refused", error };
      }
      // The attempt at the deadline gets what is left, often a millisecond: its running out of that
      // says nothing about the server, so the error before it stays the one reported.
      const cutShort = budgetMs < RECONNECT_ATTEMPT_TIMEOUT_MS && Date.now() - attemptStart >= budgetMs;
      if (!(cutShort && lastError !== undefined)) lastError = error;
    }
  }
}
