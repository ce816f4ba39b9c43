/**
 * At most `limit` file requests awaiting their replies; the rest wait here, in order. The server
 * queues 256 file requests per connection and refuses the next with `limit_exceeded`: a
 * `Promise.all` of 400 `files.stat` lost 143 of them (found by a review). The opens of uploads,
 * downloads and watches wait in the same queue on the server until their first reply: they take a
 * slot too (hold), at once, since an open cannot wait, and the requests after them wait for it.
 */
export class RequestSlots {
  #inUse = 0;
  readonly #waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(private readonly limit: number) {}

  /** Runs `request` once a slot is free, and frees it when the request settles. */
  async run<T>(request: () => Promise<T>): Promise<T> {
    // A slot freed while requests wait passes straight to the first of them (see #free).
    if (this.#inUse >= this.limit || this.#waiting.length > 0) await new Promise<void>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    else this.#inUse++;
    try {
      return await request();
    } finally {
      this.#free();
    }
  }

  /** Takes a slot now, past the limit if need be (an open); the function returned frees it, once. */
  hold(): () => void {
    this.#inUse++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#free();
    };
  }

  /**
   * Fails every request still waiting for a slot with `error`, unsent: the session is over. They
   * would otherwise be sent once the requests ahead of them fail, into a session that is gone, and
   * fail with a bare connection_closed rather than with what ended it (reconnect_failed, say).
   */
  failWaiting(error: Error): void {
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }

  #free(): void {
    if (this.#waiting.length > 0 && this.#inUse <= this.limit) {
      this.#waiting.shift()!.resolve();
      return;
    }
    this.#inUse--;
  }
}
