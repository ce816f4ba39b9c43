/**
 * Keeps a socket's messages under the server's `--max-messages-per-second` (hello's
 * `maxMessagesPerSecond`): past it the server closes the socket with 4029, and every exec and
 * request on it fails. A loop of awaited `write`s or `files.stat`s reached that within a second on
 * loopback (found by a review). Messages go out at once while the budget lasts; past it they wait
 * here, in order, and go out as it refills. The budget is a token bucket a little under the server's
 * (which refills `rate` a second and holds twice as many), so that timer jitter never crosses it;
 * the server's other half of a burst leaves room for a keepalive ping sent ahead of the queue.
 */
export class SendPacer {
  readonly #queue: string[] = [];
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #lastMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Messages that went through the queue so far, and how many had been queued: see flushed(). */
  #queued = 0;
  #sent = 0;
  readonly #waiters: { upTo: number; resolve: () => void }[] = [];
  #stopped = false;

  constructor(
    serverRatePerSecond: number,
    private readonly sendNow: (text: string) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    // A server that says 0 (or nonsense) would stop every message for good: one a second at least.
    const rate = Math.max(1, Number.isFinite(serverRatePerSecond) ? serverRatePerSecond : 1);
    this.#ratePerMs = (rate * 0.9) / 1000;
    this.#burst = Math.max(1, Math.floor(rate));
    this.#tokens = this.#burst;
    this.#lastMs = nowMs();
  }

  /** Messages waiting for budget. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Sends `text` now if the budget allows and nothing waits before it; otherwise queues it. */
  send(text: string): void {
    if (this.#stopped) return;
    if (this.#queue.length === 0 && this.#take()) {
      this.sendNow(text);
      return;
    }
    this.#queue.push(text);
    this.#queued++;
    this.#schedule();
  }

  /**
   * Sends `text` ahead of everything that waits, as the budget's debt: a keepalive ping, whose
   * deadline runs from when it is sent (behind 10 s of queued resizes it found a live socket dead).
   */
  sendAhead(text: string): void {
    if (this.#stopped) return;
    this.#refill();
    this.#tokens -= 1;
    this.sendNow(text);
  }

  /** Settles once every message queued before the call has gone out (at once when none waits). */
  flushed(): Promise<void> {
    const upTo = this.#queued;
    if (this.#sent >= upTo || this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push({ upTo, resolve }));
  }

  /** The socket is gone: what waits is dropped (its requests fail with the socket), and flushed() settles. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#queue.length = 0;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  #refill(): void {
    const now = this.nowMs();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#lastMs) * this.#ratePerMs);
    this.#lastMs = now;
  }

  #take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const waitMs = Math.max(1, Math.ceil((1 - this.#tokens) / this.#ratePerMs));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, waitMs);
  }

  #flush(): void {
    while (this.#queue.length > 0 && !this.#stopped && this.#take()) {
      this.sendNow(this.#queue.shift()!);
      this.#sent++;
    }
    while (this.#waiters.length > 0 && this.#waiters[0]!.upTo <= this.#sent) this.#waiters.shift()!.resolve();
    if (this.#queue.length > 0) this.#schedule();
  }
}
