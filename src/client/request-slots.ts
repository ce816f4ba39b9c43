/**
 * At most `limit` requests awaiting their replies; the rest wait here, in order. The server queues
 * 256 file requests per connection and refuses the next with `limit_exceeded`: a `Promise.all` of
 * 400 `files.stat` lost 143 of them (found by a review).
 */
export class RequestSlots {
  #inUse = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Runs `request` once a slot is free, and frees it when the request settles. */
  async run<T>(request: () => Promise<T>): Promise<T> {
    if (this.#inUse >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#inUse++;
    try {
      return await request();
    } finally {
      // The slot passes to the next waiting request, or is free.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#inUse--;
    }
  }
}
