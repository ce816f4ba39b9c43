import { reconnectDelayMs } from "./backoff.ts";
import type { CloseAttemptOutcome } from "./close-attempt.ts";
import { loadSessionsToEnd, saveSessionsToEnd, type SessionToEnd } from "./saved-tabs.ts";

/** Ends the sessions of tabs closed while the page could not reach the server. */
export interface SessionCloser {
  /** Ends `target` once the server can be reached; until then it is kept for a reload too. */
  end(target: SessionToEnd): void;
  /** Tries every waiting session now rather than at its next backoff (the browser is back online). */
  retryNow(): void;
}

export interface SessionCloserOptions {
  /** Where the sessions wait across a reload (the page's sessionStorage). */
  storage: Pick<Storage, "getItem" | "setItem">;
  /** One try: closeSessionOnce (close-attempt.ts) with the page's location and token. */
  attempt(target: SessionToEnd): Promise<CloseAttemptOutcome>;
}

interface Waiting {
  target: SessionToEnd;
  /** Tries that found the server unreachable so far, for the backoff. */
  failures: number;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Creates the closer and takes up the sessions a page before a reload left waiting. Each session is
 * tried at once, then with the tabs' reconnect backoff (up to 10 s apart) for as long as the page
 * is open, and forgotten once the server has ended it or no longer has it. Were the browser tab
 * closed first, the server ends the session itself after its detach or idle TTL.
 */
export function createSessionCloser(options: SessionCloserOptions): SessionCloser {
  const waiting = new Map<string, Waiting>();
  const save = () => saveSessionsToEnd(options.storage, [...waiting.values()].map(({ target }) => target));

  const attempt = (entry: Waiting) => {
    entry.retryTimer = undefined;
    void options.attempt(entry.target).then((outcome) => {
      if (outcome === "unreachable") {
        entry.retryTimer = setTimeout(() => attempt(entry), reconnectDelayMs(entry.failures++));
        return;
      }
      waiting.delete(entry.target.session);
      save();
    });
  };
  const end = (target: SessionToEnd) => {
    if (waiting.has(target.session)) return;
    const entry: Waiting = { target, failures: 0, retryTimer: undefined };
    waiting.set(target.session, entry);
    save();
    attempt(entry);
  };

  for (const target of loadSessionsToEnd(options.storage)) end(target);
  return {
    end,
    retryNow() {
      for (const entry of waiting.values()) {
        // A try under way is left to finish; it retries on its own if it fails.
        if (entry.retryTimer === undefined) continue;
        clearTimeout(entry.retryTimer);
        attempt(entry);
      }
    },
  };
}
