import { BunkerError } from "./errors.ts";
import type { OpenedSocket } from "./open-socket.ts";
import { retryOnSchedule } from "./reconnect-schedule.ts";
import type { ReconnectingEvent } from "./reconnect-options.ts";
import { finalResumeFailure } from "./resume-failure.ts";

/** How the attempts to resume a session ended. */
export type ResumeResult =
  | { kind: "resumed"; opened: OpenedSocket; attempts: number }
  /** The server no longer has the session (`unknown_session`): it ended, or the server restarted. */
  | { kind: "gone"; error: BunkerError }
  /** The server turned the connection away for who it is (401: the token; 403: the origin check, or a proxy). */
  | { kind: "refused"; error: BunkerError }
  | { kind: "timed_out"; error: BunkerError | undefined }
  /** `disconnect()` or `close()` came meanwhile; a socket got back then was let go. */
  | { kind: "abandoned" };

export interface ResumeLoopOptions {
  timeoutMs: number;
  cause: BunkerError;
  /** One attempt: open a socket resuming the session, within `connectTimeoutMs`. */
  attempt(connectTimeoutMs: number): Promise<OpenedSocket>;
  /** Checked after every wait and attempt: true once nobody wants the session back. */
  abandoned(): boolean;
  /** Settles when the session is abandoned: a wait under way ends at once. */
  whenAbandoned: Promise<void>;
  onReconnecting: ((event: ReconnectingEvent) => void) | undefined;
}

/**
 * Tries to resume a session after its socket dropped, on the schedule of retryOnSchedule, until an
 * attempt gets `hello` or `timeoutMs` has passed. `unknown_session` and a refused token or origin
 * (401, 403) end it at once: no later attempt can do better (finalResumeFailure). Anything else (a
 * refused or reset connection, a 503 while a server restarts behind a balancer, a timeout) is tried
 * again.
 */
export async function retryResume(options: ResumeLoopOptions): Promise<ResumeResult> {
  const result = await retryOnSchedule<OpenedSocket, BunkerError>({
    timeoutMs: options.timeoutMs,
    attempt: async (connectTimeoutMs) => {
      try {
        return await options.attempt(connectTimeoutMs);
      } catch (error) {
        throw error instanceof BunkerError ? error : new BunkerError("connect_failed", String(error));
      }
    },
    isFinal: (error) => finalResumeFailure(error) !== undefined,
    abandoned: options.abandoned,
    whenAbandoned: options.whenAbandoned,
    beforeAttempt: (attempt, delayMs, lastError) => options.onReconnecting?.({ attempt: attempt + 1, delayMs, cause: options.cause, lastError }),
    letGo: (opened) => opened.socket.close(1000),
  });
  switch (result.kind) {
    case "succeeded":
      return { kind: "resumed", opened: result.value, attempts: result.attempts };
    case "final":
      return { kind: finalResumeFailure(result.error)!, error: result.error };
    default:
      return result;
  }
}
