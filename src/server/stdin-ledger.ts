import { MAX_PENDING_STDIN_BYTES, MAX_STDIN_CREDIT_WRITERS, STDIN_ACK_STEP_BYTES, STDIN_INITIAL_CREDIT_BYTES } from "../protocol/limits.ts";
import type { StdinAckMessage } from "../protocol/index.ts";
import type { ConnectionSink } from "./connection-sink.ts";

/** What a socket that asked for credit (`stdin` with `credit: true`) may send. */
interface Credit {
  /** The `limit` last told: how many bytes of its own the socket may have sent in all. */
  granted: number;
  /** How far past its bytes a top-up puts `granted`: doubles when it used half, up to its share. */
  windowBytes: number;
  /** Its `received` at the last grant: what it used since tells whether the window grows. */
  grantedAt: number;
  /** Told `contended`: it gets nothing more until its next `credit: true`. */
  yielding: boolean;
}

/** One socket that wrote an exec's stdin. */
interface Writer {
  /** Bytes of its `stdin` messages the exec took in (a refused message counts nothing). */
  received: number;
  credit: Credit | undefined;
}

function unusedOf(writer: Writer): number {
  return writer.credit ? Math.max(0, writer.credit.granted - writer.received) : 0;
}

/** A writer with credit that has used half its window (and is not yielding): a grant can go to it. */
function isWanting(writer: Writer): boolean {
  return writer.credit !== undefined && !writer.credit.yielding && unusedOf(writer) <= writer.credit.windowBytes / 2;
}

/**
 * The counts of one exec's stdin and what its writers are told (`stdin.ack`).
 *
 * A writer without credit hears every STDIN_ACK_STEP_BYTES how far the command has read, as before
 * credit existed; it cannot know what other writers hold, so several of them can overrun the bound.
 * A writer with credit is told a `limit` of its own, and the limits are handed out so that what
 * waits plus every limit not yet used stays within MAX_PENDING_STDIN_BYTES: writers that keep to
 * their limits are never refused, however many write at once. Room goes first to the writer that
 * holds least; a writer's window starts at STDIN_INITIAL_CREDIT_BYTES and doubles as it uses it, up
 * to an even share. Credit cannot be taken back (it may be in use on the wire), so a writer that
 * holds more than its share while another has none is asked to give back what it does not use
 * (`contended`); it answers with `credit: true` once it is idle or out of credit.
 *
 * At most MAX_STDIN_CREDIT_WRITERS sockets of an exec hold credit: a grant sorts the writers that
 * want more and a scan looks at every writer, so that bound is what keeps one `credit: true` cheap.
 *
 * Messages go out only once a grant's counts are all settled: a send can close its socket (the hard
 * cap on what a socket has queued), and the close makes the socket leave, which grants again.
 */
export class StdinLedger {
  /** Bytes the exec took in, from every writer. */
  #received = 0;
  /** Bytes the command has taken (or that were dropped after it closed its stdin). */
  #taken = 0;
  /** The offset the last every-MiB `stdin.ack` told the writers without credit. */
  #stepAcked = 0;
  readonly #writers = new Map<ConnectionSink, Writer>();
  /** How many writers have credit. */
  #creditWriters = 0;
  /** What writers were granted and have not used, in all. */
  #unusedBytes = 0;
  /** The writers for which isWanting holds. */
  readonly #wanting = new Set<ConnectionSink>();

  constructor(readonly id: string) {}

  /** A socket sent a `stdin` message: from now on it hears how far the command has read (until it leaves). */
  writtenBy(sink: ConnectionSink): void {
    if (!this.#writers.has(sink)) this.#writers.set(sink, { received: 0, credit: undefined });
  }

  /** The exec took in `bytes` of a socket's `stdin` message. */
  received(sink: ConnectionSink, bytes: number): void {
    const writer = this.#writers.get(sink);
    if (!writer) return;
    this.#received += bytes;
    // Keystrokes of a writer without credit: nothing of the credit bookkeeping moves.
    if (!writer.credit) {
      writer.received += bytes;
      return;
    }
    const wanted = this.#wanting.has(sink);
    this.#change(sink, writer, () => (writer.received += bytes));
    // The room is what it was: only a writer that has just come to want more may get some now, or
    // may find none and have the holders asked for theirs; so may one that has just used the last of
    // its credit. (A writer answered with more than half a window, less than a whole, came to want
    // while not yet starved, and used the rest waiting for a grant nobody asked the holder for: a
    // test's second writer hung once in ~20 runs.)
    if (this.#wanting.has(sink) && (!wanted || unusedOf(writer) === 0)) this.#grant({ scan: true });
  }

  /**
   * A socket asked for credit (`credit: true`), after the bytes of the same message: what it was
   * granted and has not used goes back, it starts again from a small window, and it is answered
   * with its count (`received`) and its new limit. False, and nothing changes, when the exec
   * already has MAX_STDIN_CREDIT_WRITERS other writers with credit.
   */
  creditAsked(sink: ConnectionSink): boolean {
    this.writtenBy(sink);
    const writer = this.#writers.get(sink)!;
    if (!writer.credit && this.#creditWriters >= MAX_STDIN_CREDIT_WRITERS) return false;
    if (!writer.credit) this.#creditWriters++;
    this.#change(sink, writer, () => {
      writer.credit = { granted: writer.received, windowBytes: STDIN_INITIAL_CREDIT_BYTES, grantedAt: writer.received, yielding: false };
    });
    this.#grant({ answer: sink, scan: true });
    return true;
  }

  /** The command has taken `offset` bytes of stdin in all. */
  taken(offset: number): void {
    this.#taken = offset;
    if (offset - this.#stepAcked >= STDIN_ACK_STEP_BYTES) {
      this.#stepAcked = offset;
      const text = JSON.stringify({ type: "stdin.ack", id: this.id, offset } satisfies StdinAckMessage);
      for (const [sink, writer] of this.#writers) if (!writer.credit) sink.send(text);
    }
    if (this.#wanting.size > 0 && this.#roomBytes() > 0) this.#grant({ scan: false });
  }

  /** A socket left the session: whatever it was granted and had not used is room again. */
  left(sink: ConnectionSink): void {
    const writer = this.#writers.get(sink);
    if (!writer) return;
    this.#forget(sink, writer);
    if (writer.credit && this.#wanting.size > 0) this.#grant({ scan: false });
  }

  #forget(sink: ConnectionSink, writer: Writer): void {
    this.#unusedBytes -= unusedOf(writer);
    this.#wanting.delete(sink);
    this.#writers.delete(sink);
    if (writer.credit) this.#creditWriters--;
  }

  /** Changes a writer, keeping the total unused and the wanting set true to it. */
  #change(sink: ConnectionSink, writer: Writer, change: () => void): void {
    this.#unusedBytes -= unusedOf(writer);
    change();
    this.#unusedBytes += unusedOf(writer);
    if (isWanting(writer)) this.#wanting.add(sink);
    else this.#wanting.delete(sink);
  }

  /** Bytes that may still be granted: the bound, less what waits, less what was granted and not used. */
  #roomBytes(): number {
    // Bytes of writers without credit can fill the bound past what was granted: no room then.
    return Math.max(0, MAX_PENDING_STDIN_BYTES - (this.#received - this.#taken) - this.#unusedBytes);
  }

  /**
   * Hands out the room there is to the writers that want more, neediest first. `answer` is told its
   * limit whatever it gets. With `scan`, a writer that wants more and gets none has the writers
   * holding more than their share asked to give back (the room can only have shrunk for it since the
   * last scan when it has just come to want, or just asked).
   */
  #grant({ answer, scan }: { answer?: ConnectionSink; scan: boolean }): void {
    if (this.#creditWriters === 0) return;
    const told: [ConnectionSink, Pick<StdinAckMessage, "limit" | "received" | "contended">][] = [];
    const shareBytes = Math.floor(MAX_PENDING_STDIN_BYTES / this.#creditWriters);
    let roomBytes = this.#roomBytes();
    const wanting = [...this.#wanting].map((sink) => [sink, this.#writers.get(sink)!] as const);
    wanting.sort((a, b) => unusedOf(a[1]) - unusedOf(b[1]));
    let starved = false;
    for (const [sink, writer] of wanting) {
      const credit = writer.credit!;
      const answering = sink === answer;
      const unused = unusedOf(writer);
      // A writer that used half its window since the last grant gets a larger one: an idle one does not.
      const grows = writer.received - credit.grantedAt >= credit.windowBytes / 2;
      const windowBytes = Math.min(shareBytes, grows ? 2 * credit.windowBytes : credit.windowBytes);
      const give = Math.min(windowBytes - unused, roomBytes);
      // A top-up is worth a message once it is a step, or half the window when that is smaller.
      if (give > 0 && (answering || give >= Math.min(STDIN_ACK_STEP_BYTES, Math.ceil(windowBytes / 2)))) {
        this.#change(sink, writer, () => {
          credit.granted += give;
          credit.windowBytes = windowBytes;
          credit.grantedAt = writer.received;
        });
        roomBytes -= give;
        told.push([sink, { limit: credit.granted, ...(answering && { received: writer.received }) }]);
      } else if (answering) {
        told.push([sink, { limit: credit.granted, received: writer.received }]);
      }
      // Less than half a window, even after what the room allowed: it starves.
      if (unusedOf(writer) < windowBytes / 2) starved = true;
    }
    if (starved && scan) {
      for (const [sink, writer] of this.#writers) {
        const credit = writer.credit;
        if (!credit || credit.yielding || unusedOf(writer) <= shareBytes) continue;
        this.#change(sink, writer, () => (credit.yielding = true));
        told.push([sink, { limit: credit.granted, contended: true }]);
      }
    }
    for (const [sink, fields] of told) this.#tell(sink, fields);
  }

  #tell(sink: ConnectionSink, fields: Pick<StdinAckMessage, "limit" | "received" | "contended">): void {
    sink.send(JSON.stringify({ type: "stdin.ack", id: this.id, offset: this.#taken, ...fields } satisfies StdinAckMessage));
  }
}
