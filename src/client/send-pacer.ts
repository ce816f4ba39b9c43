/**
 * Keeps a socket's messages under the server's `--max-messages-per-second` (hello's
 * `maxMessagesPerSecond`): past it the server closes the socket with 4029, and every exec and
 * request on it fails. A loop of awaited `write`s or `files.stat`s reached that within a second on
 * loopback (found by a review). Messages go out at once while the budget lasts; past it they wait
 * here, in order, and go out as it refills. The budget is a token bucket a little under the server's
 * (which refills `rate` a second and holds twice as many), so that timer jitter never crosses it.
 */
export class SendPacer {
  readonly #queue: string[] = [];
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #lastMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #idle: { promise: Promise<void>; resolve: () => void } | undefined;
  #stopped = false;

  constructor(
    serverRatePerSecond: number,
    private readonly sendNow: (text: string) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.#ratePerMs = (serverRatePerSecond * 0.9) / 1000;
    this.#burst = Math.max(1, Math.floor(serverRatePerSecond));
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
    this.#schedule();
  }

  /** Settles once nothing waits (at once when nothing does): what a writer that must not run ahead awaits. */
  idle(): Promise<void> {
    if (this.#queue.length === 0) return Promise.resolve();
    if (!this.#idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((settle) => (resolve = settle));
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  /** The socket is gone: what waits is dropped (its requests fail with the socket), and idle() settles. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#queue.length = 0;
    this.#settleIdle();
  }

  #take(): boolean {
    const now = this.nowMs();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#lastMs) * this.#ratePerMs);
    this.#lastMs = now;
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
    while (this.#queue.length > 0 && !this.#stopped && this.#take()) this.sendNow(this.#queue.shift()!);
    if (this.#queue.length > 0) this.#schedule();
    else this.#settleIdle();
  }

  #settleIdle(): void {
    const idle = this.#idle;
    this.#idle = undefined;
    idle?.resolve();
  }
}
