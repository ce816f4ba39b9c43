/** Bytes per block: keystrokes share one, instead of costing an array each. */
const BLOCK_BYTES = 64 * 1024;

/**
 * The end of what was written to an exec's stdin, counted from its first byte: the bytes a dropped
 * connection may have taken and never delivered, which a resume sends again from the server's
 * `received`. Held in blocks that are only ever appended to, so a view handed out stays true.
 *
 * Bounded by `keptBytes` past the last write handed over whole: the client library never has more
 * of an exec's stdin in flight than its credit, and the server keeps every writer's credit within
 * MAX_PENDING_STDIN_BYTES, so the server has always taken in all but that much of what was handed
 * over. The write under way is held on top, whatever its size.
 */
export class StdinTail {
  readonly #blocks: Uint8Array[] = [];
  /** Absolute offset of the first block's first byte. */
  #base = 0;
  /** Bytes at the start of the first block that are no longer held. */
  #skipped = 0;
  /** Bytes used in the last block. */
  #filled = BLOCK_BYTES;
  #written = 0;

  constructor(private readonly keptBytes: number) {}

  /** Bytes written in all (what the server should have once everything arrives). */
  get written(): number {
    return this.#written;
  }

  /** The first byte still held: a resume from before it cannot be made exact. */
  get start(): number {
    return this.#base + this.#skipped;
  }

  /** Holds `bytes`, written after everything before. */
  append(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.byteLength) {
      if (this.#filled === BLOCK_BYTES) {
        this.#blocks.push(new Uint8Array(BLOCK_BYTES));
        this.#filled = 0;
      }
      const take = Math.min(BLOCK_BYTES - this.#filled, bytes.byteLength - at);
      this.#blocks.at(-1)!.set(bytes.subarray(at, at + take), this.#filled);
      this.#filled += take;
      at += take;
    }
    this.#written += bytes.byteLength;
  }

  /** Everything written was handed over: the server has taken in all but `keptBytes` of it. */
  handedOver(): void {
    this.forgetBefore(this.#written - this.keptBytes);
  }

  /** The bytes from `offset` to the end, as views in order; undefined when `offset` is not held (or past the end). */
  from(offset: number): Uint8Array[] | undefined {
    if (offset < this.start || offset > this.#written) return undefined;
    const views: Uint8Array[] = [];
    for (let i = Math.floor((offset - this.#base) / BLOCK_BYTES); i < this.#blocks.length; i++) {
      const blockStart = this.#base + i * BLOCK_BYTES;
      const end = i === this.#blocks.length - 1 ? this.#filled : BLOCK_BYTES;
      const begin = Math.max(0, offset - blockStart);
      if (begin < end) views.push(this.#blocks[i]!.subarray(begin, end));
    }
    return views;
  }

  /** The server has taken in everything before `offset`: those bytes need not be held. */
  forgetBefore(offset: number): void {
    const upTo = Math.min(offset, this.#written);
    if (upTo <= this.start) return;
    const whole = Math.floor((upTo - this.#base) / BLOCK_BYTES);
    // The last block stays (appends go on into it), emptied in place.
    const dropped = Math.min(whole, this.#blocks.length - 1);
    this.#blocks.splice(0, dropped);
    this.#base += dropped * BLOCK_BYTES;
    this.#skipped = upTo - this.#base;
  }
}
