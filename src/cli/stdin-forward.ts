import { BunkerError, type ExecHandle, type ExecInfo } from "../client/index.ts";
import { MAX_PENDING_STDIN_BYTES } from "../protocol/index.ts";
import { StdinTail } from "../common/stdin-tail.ts";

/** What the server had of an exec's stdin: bytes taken in from every socket, and whether `eof` came. */
export type StdinCount = NonNullable<ExecInfo["stdin"]>;

/** The handles stdin goes to: the one now, and the one that follows the exec after a reconnect. */
export interface StdinTarget {
  current(): ExecHandle | undefined;
  /** The handle after `after`, once there is one; undefined when none will come. */
  next(after: ExecHandle): Promise<ExecHandle | undefined>;
  /**
   * What the server had of the exec's stdin when `handle` took over after a drop; undefined for the
   * first handle, and from a server that does not say (one older than ExecInfo.stdin).
   */
  resumedStdin(handle: ExecHandle): StdinCount | undefined;
}

/** A send on a handle: a piece of local stdin, or its end. */
type Send = Uint8Array | "eof";

/**
 * Local stdin to the command, then end of file; paced by the server's stdin credit (the library's
 * write waits), so a command that reads slowly gets all of it, beside any other writer of the exec.
 *
 * Exact across dropped connections: what was written and may not have arrived is kept (StdinTail,
 * bounded by the credit), and on the handle of each reconnect the bytes from the server's
 * `received` on are sent again, then end of file if local stdin had ended and the server's had not.
 * Where the counts do not say (an older server) or do not add up, a send cut off by the drop is
 * made again whole, and `onInexact` (if given) is told. Stops quietly once the command no longer
 * takes stdin: its exit (or failure) is reported elsewhere.
 */
export async function forwardStdin(input: NodeJS.ReadStream, target: StdinTarget, onInexact?: () => void): Promise<void> {
  const forwarder = new StdinForwarder(target, onInexact);
  const following = forwarder.follow();
  try {
    for await (const chunk of input) if (!(await forwarder.send(chunk as Uint8Array))) return;
    await forwarder.send("eof");
  } finally {
    input.pause();
  }
  await following;
}

/** One exec's stdin forwarding: sends and catch-ups in order, over the handles that follow the exec. */
class StdinForwarder {
  readonly #tail = new StdinTail(MAX_PENDING_STDIN_BYTES);
  /** The handle written to; undefined once the command takes no more stdin (or is over). */
  #handle: ExecHandle | undefined;
  /** Handles caught up with: each one once, since its counts are those of its own resume. */
  readonly #caughtUp = new WeakSet<ExecHandle>();
  #inputEnded = false;
  /** Sends and catch-ups, one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly target: StdinTarget,
    private readonly onInexact: (() => void) | undefined,
  ) {
    this.#handle = target.current();
  }

  /** Sends a piece of local stdin (or its end); false once the command takes no more. */
  send(what: Send): Promise<boolean> {
    return this.#serially(() => {
      if (what === "eof") this.#inputEnded = true;
      else this.#tail.append(what);
      return this.#deliver(what);
    });
  }

  /**
   * Catches up every handle that follows the exec after a drop, also while nothing is being sent:
   * bytes lost with the old socket would otherwise wait for the next local input, or forever.
   */
  async follow(): Promise<void> {
    let handle = this.#handle;
    while (handle && (handle = await this.target.next(handle))) {
      await this.#serially(async () => {
        // A send may have caught up already, with this handle or a later one.
        const current = this.target.current();
        if (this.#handle && current && current !== this.#handle && !this.#caughtUp.has(current)) await this.#catchUpFrom(this.#handle, undefined);
      });
    }
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const done = this.#queue.then(work);
    this.#queue = done.catch(() => {});
    return done;
  }

  async #deliver(what: Send): Promise<boolean> {
    const handle = this.#handle;
    if (!handle) return false;
    try {
      await (what === "eof" ? handle.end() : handle.write(what));
      this.#tail.handedOver();
      return true;
    } catch (error) {
      if (!isDrop(error)) return this.#stop(handle);
      return this.#catchUpFrom(handle, what);
    }
  }

  /** Moves to the handle after `dropped` (and past any that drop too), caught up; false when none comes. */
  async #catchUpFrom(dropped: ExecHandle, cut: Send | undefined): Promise<boolean> {
    for (let from = dropped; ; ) {
      const next = await this.target.next(from);
      this.#handle = next;
      if (!next) return false;
      this.#caughtUp.add(next);
      try {
        await this.#catchUp(next, cut);
        this.#tail.handedOver();
        return true;
      } catch (error) {
        if (!isDrop(error)) return this.#stop(next);
        from = next;
      }
    }
  }

  /** Sends `handle` what the server lacks after a drop that cut off `cut` (or came between sends). */
  async #catchUp(handle: ExecHandle, cut: Send | undefined): Promise<void> {
    const count = this.target.resumedStdin(handle);
    const missing = count && !count.ended ? this.#tail.from(count.received) : undefined;
    if (count && (missing || count.received === this.#tail.written)) {
      // A view of the tail, not a copy: its blocks are only ever appended to.
      for (const piece of missing ?? []) await handle.write(piece);
      if (this.#inputEnded && !count.ended) await handle.end();
      this.#tail.forgetBefore(count.received);
      return;
    }
    // Nothing says what arrived (or the counts do not add up): the send that was cut goes again
    // whole, and a piece of it already handed over arrives twice; what the old socket had taken
    // but not delivered is lost.
    if (cut !== undefined) this.onInexact?.();
    if (cut instanceof Uint8Array) await handle.write(cut);
    // End of file again on every later connection: one lost with a dropped socket would leave the
    // command waiting forever, and one the server already has is refused (invalid_state), quietly.
    else if (this.#inputEnded) {
      try {
        await handle.end();
      } catch (error) {
        if (isDrop(error)) throw error;
      }
    }
  }

  /** The command exited, or refused stdin (printed at the end). Stdin still ends, so that a command that runs on is not left waiting. */
  async #stop(handle: ExecHandle): Promise<false> {
    this.#handle = undefined;
    await handle.end().catch(() => {});
    return false;
  }
}

/** The connection dropped: the send is made again (or caught up with) on the next handle. */
function isDrop(error: unknown): boolean {
  return error instanceof BunkerError && error.code === "connection_closed";
}
