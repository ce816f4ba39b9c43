/**
 * What a stream of replies delivers (a download's chunks, a watch's events), read one at a time by
 * an async iterator: items first, then the failure or the end.
 */
export class ReplyQueue<T> {
  readonly #items: T[] = [];
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  /** Whether more may still come: neither ended nor failed. */
  get open(): boolean {
    return !this.#ended && this.#failure === undefined;
  }

  /** Items received and not yet read. */
  get length(): number {
    return this.#items.length;
  }

  push(...items: T[]): void {
    this.#items.push(...items);
    this.#notify();
  }

  /** Nothing more will come: the reader gets what is queued, then the end. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** The stream failed: the reader gets what is queued, then `error`. */
  fail(error: Error): void {
    this.#failure = error;
    this.#notify();
  }

  /** Drops what is queued and not read (the reader left). */
  clear(): void {
    this.#items.length = 0;
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.#items.length > 0) return { value: this.#items.shift()!, done: false };
      if (this.#failure) throw this.#failure;
      if (this.#ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const waiting = this.#wake;
    this.#wake = undefined;
    waiting?.();
  }
}
