/** Which line a message waits in: `bulk` (file requests and transfers) goes after everything else. */
export type SendLine = "normal" | "bulk";

/** A message made into text only when it goes out, so that it may still change while it waits (see QueuedStdin). */
export interface LateMessage {
  text(): string;
}

/** What waits in a line: a message's text, or one made when it leaves. */
export type Outgoing = string | LateMessage;

const textOf = (message: Outgoing): string => (typeof message === "string" ? message : message.text());

interface Line {
  readonly queue: Outgoing[];
  /** Messages that went into the queue so far, and that came out of it: see flushed(). */
  queued: number;
  sent: number;
  readonly waiters: { upTo: number; resolve: () => void }[];
}

const newLine = (): Line => ({ queue: [], queued: 0, sent: 0, waiters: [] });

/**
 * Keeps a socket's messages under the server's `--max-messages-per-second` (hello's
 * `maxMessagesPerSecond`): past it the server closes the socket with 4029, and every exec and
 * request on it fails. A loop of awaited `write`s or `files.stat`s reached that within a second on
 * loopback (found by a review). Messages go out at once while the budget lasts; past it they wait,
 * in order, and go out as it refills. The budget is a token bucket a little under the server's
 * (which refills `rate` a second and holds twice as many), so that timer jitter never crosses it;
 * the server's other half of a burst leaves room for a keepalive ping sent ahead of everything.
 *
 * File requests and transfers wait in a line of their own, behind the others: a scan of thousands
 * of `files.stat` would otherwise put a terminal's keystrokes (and signals) seconds behind it. Each
 * line keeps its order (a read sent after a write still follows it).
 */
export class SendPacer {
  readonly #lines: Record<SendLine, Line> = { normal: newLine(), bulk: newLine() };
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #lastMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
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

  /** Messages waiting for budget, in both lines. */
  get waiting(): number {
    return this.#lines.normal.queue.length + this.#lines.bulk.queue.length;
  }

  /** Sends `message` now if the budget allows and nothing waits before it in its line (or ahead of it); otherwise queues it. */
  send(message: Outgoing, lineName: SendLine = "normal"): void {
    if (this.#stopped) return;
    const ahead = lineName === "normal" ? this.#lines.normal.queue.length : this.waiting;
    if (ahead === 0 && this.#take()) {
      this.sendNow(textOf(message));
      return;
    }
    const line = this.#lines[lineName];
    line.queue.push(message);
    line.queued++;
    this.#schedule();
  }

  /** The last message waiting in `line` (undefined when none waits): what a later one may still join. */
  last(lineName: SendLine = "normal"): Outgoing | undefined {
    return this.#lines[lineName].queue.at(-1);
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

  /** Settles once every message queued in `line` before the call has gone out (at once when none waits). */
  flushed(lineName: SendLine = "normal"): Promise<void> {
    const line = this.#lines[lineName];
    const upTo = line.queued;
    if (line.sent >= upTo || this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve) => line.waiters.push({ upTo, resolve }));
  }

  /** The socket is gone: what waits is dropped (its requests fail with the socket), and every waiter settles. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const line of Object.values(this.#lines)) {
      line.queue.length = 0;
      for (const waiter of line.waiters.splice(0)) waiter.resolve();
    }
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
    for (const line of [this.#lines.normal, this.#lines.bulk]) {
      while (line.queue.length > 0 && !this.#stopped && this.#take()) {
        this.sendNow(textOf(line.queue.shift()!));
        line.sent++;
      }
      while (line.waiters.length > 0 && line.waiters[0]!.upTo <= line.sent) line.waiters.shift()!.resolve();
      // The bulk line waits while the normal one has anything left.
      if (line.queue.length > 0) break;
    }
    if (this.waiting > 0) this.#schedule();
  }
}
