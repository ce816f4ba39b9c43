import type { ServerOptions } from "./options.ts";

/** What the clock reads of its session. */
export interface ClockedSession {
  readonly ended: boolean;
  readonly connectionCount: number;
  /** Execs still running and live persistent shells (see Session.runningCount). */
  readonly runningCount: number;
  /** Its detach TTL (see Session.detachTtlMs). */
  readonly detachTtlMs: number;
}

/**
 * A session's timers. With no socket joined and no HTTP transfer open, a detach TTL runs while
 * commands run, then an idle TTL; when it runs out the session expires. A socket that left holds
 * its execs' output for `holdOutputMs` first (see Session.leave).
 */
export class SessionClock {
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** HTTP transfers (`/files/`) under way: like a joined socket, each keeps the session from expiring. */
  #httpTransfers = 0;
  /** Timers of sockets that left while their hold on output runs (see leave); cleared at the end. */
  #holds: Set<ReturnType<typeof setTimeout>> | undefined;

  constructor(
    private readonly options: Pick<ServerOptions, "sessionIdleTtlMs" | "holdOutputMs">,
    private readonly session: ClockedSession,
    /** Called when a TTL has run out. */
    private readonly expire: () => void,
  ) {}

  /** A socket joined, or a transfer began: no TTL runs. */
  disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Starts the TTL the session is due, if it has no socket and no transfer (again, from the start). */
  arm(): void {
    const session = this.session;
    if (session.ended || session.connectionCount > 0 || this.#httpTransfers > 0) return;
    clearTimeout(this.#timer);
    const ttlMs = session.runningCount > 0 ? session.detachTtlMs : this.options.sessionIdleTtlMs;
    this.#timer = setTimeout(this.expire, ttlMs);
    this.#timer.unref?.();
  }

  /** See Session.holdForHttp. */
  holdForHttp(): () => void {
    this.#httpTransfers++;
    this.disarm();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#httpTransfers--;
      this.arm();
    };
  }

  /**
   * Runs `release` once a socket's hold on output is over: after `holdOutputMs`, or now. An ended
   * session holds nothing: its timer would keep it, with all its records and output, in memory for
   * the whole hold (found by a soak of sessions opened and closed).
   */
  holdOutput(release: () => void): void {
    if (this.options.holdOutputMs <= 0 || this.session.ended) {
      release();
      return;
    }
    const timer = setTimeout(() => {
      this.#holds?.delete(timer);
      release();
    }, this.options.holdOutputMs);
    timer.unref?.();
    (this.#holds ??= new Set()).add(timer);
  }

  /** The session ended: every timer goes. */
  stop(): void {
    clearTimeout(this.#timer);
    for (const timer of this.#holds ?? []) clearTimeout(timer);
    this.#holds = undefined;
  }
}
