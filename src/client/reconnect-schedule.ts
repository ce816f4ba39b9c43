/** The wait before the second attempt; it doubles each time up to RECONNECT_MAX_DELAY_MS. The first is at once. */
const FIRST_DELAY_MS = 250;
const RECONNECT_MAX_DELAY_MS = 5_000;

/**
 * How long one attempt may take (connect's connectTimeoutMs): a network that swallows packets must
 * not eat the whole budget in one attempt.
 */
export const RECONNECT_ATTEMPT_TIMEOUT_MS = 10_000;

/**
 * The wait before attempt `attempt` (0 for the first) to resume a session after a drop: at once,
 * then 0.25, 0.5, 1, 2, 4, 5, 5... s. Shared by the client library's automatic reconnect and
 * `bunker exec`'s.
 */
export function reconnectDelayMs(attempt: number): number {
  return attempt === 0 ? 0 : Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), RECONNECT_MAX_DELAY_MS);
}

/** How a run of attempts on the schedule ended. */
export type ScheduledRetryResult<T, E> =
  | { kind: "succeeded"; value: T; attempts: number }
  /** An attempt failed in a way no later one can do better than (`isFinal`). */
  | { kind: "final"; error: E }
  | { kind: "timed_out"; error: E | undefined }
  | { kind: "abandoned" };

export interface ScheduledRetryOptions<T, E> {
  /** The whole budget: attempts are made until this long after the call, the last one then. */
  timeoutMs: number;
  /** One attempt, within `connectTimeoutMs`; it fails with an `E`. */
  attempt(connectTimeoutMs: number): Promise<T>;
  /** Whether a failure ends the attempts at once. */
  isFinal(error: E): boolean;
  /** Checked before and after every wait, and after every attempt: true once nobody wants the outcome. */
  abandoned(): boolean;
  /** Settles when abandoned: a wait under way ends at once. Without it, a wait runs its course. */
  whenAbandoned?: Promise<void>;
  /** Called before each attempt's wait: `attempt` is 0 for the first. */
  beforeAttempt?(attempt: number, delayMs: number, lastError: E | undefined): void;
  /** What an attempt got after the outcome was abandoned is let go here (awaited). */
  letGo(value: T): void | Promise<void>;
}

/**
 * Makes attempts at once, then after the waits of reconnectDelayMs, until one succeeds, one fails
 * for good (`isFinal`), or `timeoutMs` has passed: the last wait is cut short so that one attempt is
 * made at the deadline. The resume loop of both the client library (resume-loop.ts) and
 * `bunker exec` (cli/reconnect.ts).
 */
export async function retryOnSchedule<T, E>(options: ScheduledRetryOptions<T, E>): Promise<ScheduledRetryResult<T, E>> {
  const deadline = Date.now() + options.timeoutMs;
  // Set by the first attempt, which is made whatever the budget: only a later one can run out of time.
  let lastError: E | undefined;
  for (let attempt = 0; ; attempt++) {
    if (options.abandoned()) return { kind: "abandoned" };
    const leftMs = deadline - Date.now();
    if (attempt > 0 && leftMs <= 0) return { kind: "timed_out", error: lastError };
    const delayMs = Math.max(0, Math.min(reconnectDelayMs(attempt), leftMs));
    options.beforeAttempt?.(attempt, delayMs, lastError);
    // A plain timer, not an unref'd one: while a session is down no socket keeps Node or Bun
    // alive, and a program awaiting an exec's exit must not end in the middle of a reconnect.
    if (delayMs > 0) await waitUnless(delayMs, options.whenAbandoned);
    if (options.abandoned()) return { kind: "abandoned" };
    const budgetMs = Math.min(RECONNECT_ATTEMPT_TIMEOUT_MS, Math.max(deadline - Date.now(), 1));
    const attemptStart = Date.now();
    let value: T;
    try {
      value = await options.attempt(budgetMs);
    } catch (error) {
      if (options.isFinal(error as E)) return { kind: "final", error: error as E };
      // The attempt at the deadline gets what is left, often a millisecond: its running out of that
      // says nothing about the server, so the error before it (a reset, a 503) stays the one reported.
      const cutShort = budgetMs < RECONNECT_ATTEMPT_TIMEOUT_MS && Date.now() - attemptStart >= budgetMs;
      if (!(cutShort && lastError !== undefined)) lastError = error as E;
      continue;
    }
    if (options.abandoned()) {
      await options.letGo(value);
      return { kind: "abandoned" };
    }
    return { kind: "succeeded", value, attempts: attempt + 1 };
  }
}

/** Waits `delayMs`, or less when `stop` settles first (the timer is then cleared, so nothing holds the process). */
function waitUnless(delayMs: number, stop: Promise<void> | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, delayMs);
    void stop?.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
