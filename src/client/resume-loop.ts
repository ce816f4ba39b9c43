import { BunkerError } from "./errors.ts";
import type { OpenedSocket } from "./open-socket.ts";
import { RECONNECT_ATTEMPT_TIMEOUT_MS, reconnectDelayMs } from "./reconnect-schedule.ts";
import type { ReconnectingEvent } from "./reconnect-options.ts";

/** How the attempts to resume a session ended. */
export type ResumeResult =
  | { kind: "resumed"; opened: OpenedSocket; attempts: number }
  /** The server no longer has the session (`unknown_session`): it ended, or the server restarted. */
  | { kind: "gone"; error: BunkerError }
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
 * Tries to resume a session after its socket dropped: at once, then after the waits of
 * reconnect-schedule.ts, until an attempt gets `hello` or `timeoutMs` has passed (the last wait is
 * cut short so that one attempt is made at the deadline). `unknown_session` ends it at once: no later
 * attempt can do better. Anything else (a refused or reset connection, a 503 while a server
 * restarts behind a balancer, a timeout) is tried again.
 */
export async function retryResume(options: ResumeLoopOptions): Promise<ResumeResult> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: BunkerError | undefined;
  for (let attempt = 0; ; attempt++) {
    if (options.abandoned()) return { kind: "abandoned" };
    const leftMs = deadline - Date.now();
    if (attempt > 0 && leftMs <= 0) return { kind: "timed_out", error: lastError };
    const delayMs = Math.max(0, Math.min(reconnectDelayMs(attempt), leftMs));
    options.onReconnecting?.({ attempt: attempt + 1, delayMs, cause: options.cause, lastError });
    // A plain timer, not an unref'd one: while the session is down no socket keeps Node or Bun
    // alive, and a program awaiting an exec's exit must not end in the middle of a reconnect.
    if (delayMs > 0) await waitUnless(delayMs, options.whenAbandoned);
    if (options.abandoned()) return { kind: "abandoned" };
    let opened: OpenedSocket;
    const budgetMs = Math.min(RECONNECT_ATTEMPT_TIMEOUT_MS, Math.max(deadline - Date.now(), 1));
    const attemptStart = Date.now();
    try {
      opened = await options.attempt(budgetMs);
    } catch (error) {
      const failure = error instanceof BunkerError ? error : new BunkerError("connect_failed", String(error));
      if (failure.code === "unknown_session") return { kind: "gone", error: failure };
      // The attempt at the deadline gets what is left, often a millisecond: its running out of that
      // says nothing about the server, so the error before it (a reset, a 503) stays the one reported.
      const cutShort = budgetMs < RECONNECT_ATTEMPT_TIMEOUT_MS && Date.now() - attemptStart >= budgetMs;
      if (!(cutShort && lastError)) lastError = failure;
      continue;
    }
    if (options.abandoned()) {
      opened.socket.close(1000);
      return { kind: "abandoned" };
    }
    return { kind: "resumed", opened, attempts: attempt + 1 };
  }
}

/** Waits `delayMs`, or less when `stop` settles first (the timer is then cleared, so nothing holds the process). */
function waitUnless(delayMs: number, stop: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, delayMs);
    void stop.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
