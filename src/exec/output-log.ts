import { freeBuffer } from "./free-buffer.ts";

/** A run of a stream's bytes and the stream offset of its first byte. */
export interface LogChunk {
  offset: number;
  bytes: Uint8Array;
}

/** A chunk as the log holds it: whether its buffer is the log's alone, to free once dropped. */
interface HeldChunk extends LogChunk {
  owned: boolean;
}

/** A position in a log that paces the producer: the log keeps room for the reader furthest ahead. */
export interface LogReader {
  /** Stream offset up to which this reader has taken bytes. */
  readonly position: number;
  /**
   * `false`: a reader that never paces the producer nor keeps history for itself (a viewer's): with
   * only such readers the producer runs free, and one that falls behind learns of a gap.
   */
  readonly paces?: false;
  /**
   * For readers that acknowledge what their client processed: the acknowledged offset. Bytes from
   * there on are kept, so that a client whose socket dropped can resume from exactly what it had.
   */
  readonly retainFrom?: number;
}

/** Chunks smaller than this are copied together, so that a trickle of tiny writes cannot pile up objects. */
const COALESCE_BELOW_BYTES = 16 * 1024;
const COALESCE_BUFFER_BYTES = 64 * 1024;
/** Unsent bytes past the furthest reader never exceed this many capacities, or this many bytes (see #trim). */
const HARD_CAP_FACTOR = 8;
const HARD_CAP_MIN_BYTES = 8 * 1024 * 1024;

/**
 * The last `capacityBytes` of one output stream of an exec, with byte offsets: what a client that
 * reconnects or attaches late can still be sent.
 *
 * Pacing: while readers are registered, `waitForRoom` holds the producer (the pipe reader, so the
 * child blocks in write) once the reader furthest ahead is a whole capacity behind: with one client,
 * nothing it has not been sent is ever dropped. With no reader (nobody attached) the producer runs
 * free and the oldest bytes are dropped; a later reader learns of them as a gap.
 */
export class OutputLog {
  readonly #chunks: HeldChunk[] = [];
  /** Bytes before this offset are no longer held. */
  #start = 0;
  #end = 0;
  #held = 0;
  #ended = false;
  /** The exec's output is no longer kept: only what readers are still to be sent (see discard). */
  #discarded = false;
  /** Free space at the end of the last chunk's buffer, for coalescing small writes. */
  #tail: { buffer: Uint8Array; used: number } | undefined;
  /**
   * Made with the first reader, dropped with the last: a session remembers up to 10,000 finished
   * execs, two logs each, and nearly all of them have no reader left.
   */
  #readers: Set<LogReader> | undefined;
  #roomWaiter: PromiseWithResolvers<void> | undefined;

  /** Called after bytes are appended and when the stream ends: readers may have something to send. */
  onChange: () => void = () => {};

  /**
   * `freesBuffers`: whoever reads this log copies or sends what `read` returns before it returns
   * (true of subscriptions; not of the shell driver, whose commands' logs keep views of the shell's
   * bytes), so a dropped chunk's buffer can be freed at once when the log owns it (see freeBuffer).
   */
  constructor(
    readonly capacityBytes: number,
    private readonly freesBuffers = false,
  ) {}

  /** Offset of the first byte still held. */
  get start(): number {
    return this.#start;
  }

  /** Offset just past the last byte: the number of bytes the stream has produced. */
  get end(): number {
    return this.#end;
  }

  /** Whether the stream has ended (no byte will follow `end`). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes held in memory. */
  get heldBytes(): number {
    return this.#held;
  }

  /**
   * Adds bytes at the end. The log may keep a reference to `bytes`: the caller must not change them.
   * `owned`: nothing outside the log holds their buffer (a fresh read of a pipe), so a log that
   * frees buffers may free it once it no longer needs it, at once if it copied the bytes.
   */
  append(bytes: Uint8Array, owned = false): void {
    if (bytes.byteLength === 0 || this.#ended) return;
    const last = this.#chunks.at(-1);
    const tail = this.#tail;
    const copied = bytes.byteLength < COALESCE_BELOW_BYTES;
    if (copied && last && tail && tail.buffer.byteLength - tail.used >= bytes.byteLength) {
      tail.buffer.set(bytes, tail.used);
      tail.used += bytes.byteLength;
      last.bytes = tail.buffer.subarray(0, tail.used);
    } else if (copied) {
      const buffer = new Uint8Array(Math.min(COALESCE_BUFFER_BYTES, Math.max(4096, bytes.byteLength * 4)));
      buffer.set(bytes);
      this.#tail = { buffer, used: bytes.byteLength };
      this.#chunks.push({ offset: this.#end, bytes: buffer.subarray(0, bytes.byteLength), owned: true });
    } else {
      this.#tail = undefined;
      this.#chunks.push({ offset: this.#end, bytes, owned });
    }
    this.#end += bytes.byteLength;
    this.#held += bytes.byteLength;
    // Copied into a buffer of the log's own: the caller's is done with (freed last: it empties `bytes`).
    if (copied && owned && this.freesBuffers) freeBuffer(bytes);
    this.#trim();
    this.onChange();
  }

  /** Marks the end of the stream. */
  finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    // A finished log keeps only its bytes: the last chunk's coalescing buffer (4 to 64 KiB) would
    // otherwise stay with every finished exec a session remembers, for a few bytes of output each.
    const last = this.#chunks.at(-1);
    if (this.#tail && last) {
      const buffer = last.bytes;
      last.bytes = buffer.slice();
      if (this.freesBuffers) freeBuffer(buffer);
    }
    this.#tail = undefined;
    if (!this.#readers) this.#settle();
    this.#releaseRoom();
    this.onChange();
  }

  /**
   * A finished log with no reader left is what a session keeps for as long as it remembers the
   * exec, counted by its bytes (FinishedExecs): a chunk that is a view of part of a larger buffer
   * (the first one trimmed by its capacity, or a view of a persistent shell's read) becomes a copy
   * of its bytes. While readers move through it, a partly trimmed chunk stays a view: copying it at
   * each step would copy the same bytes over and over. Kept as views, a session's finished execs
   * that each streamed past their log held 10.4 MB where the budget counted 8 MiB (found by a soak).
   */
  #settle(): void {
    for (const chunk of this.#chunks) {
      const { bytes } = chunk;
      if (bytes.byteLength === bytes.buffer.byteLength) continue;
      const owned = chunk.owned;
      chunk.bytes = bytes.slice();
      chunk.owned = true;
      // The view's buffer goes now if nothing else can be reading it (see #drop).
      if (owned && this.freesBuffers) freeBuffer(bytes);
    }
  }

  /**
   * Drops the held bytes (the exec's output is no longer kept), but not those a reader is still to
   * be sent: a socket reading a finished exec's output behind the others lost its last bytes to a
   * gap when the session's budget for finished output took them (found by an audit). What is left
   * goes as those readers move on. Offsets stay as they are.
   */
  discard(): void {
    this.#discarded = true;
    this.#dropUnneeded();
  }

  /**
   * Drops every held byte, those readers are still to be sent too (they learn of them as a gap):
   * the session's budget for finished output is spent on bytes no reader is taking (see
   * FinishedExecs). Offsets stay as they are.
   */
  discardAll(): void {
    this.#discarded = true;
    this.#dropBefore(this.#end);
  }

  /** A discarded log keeps only what its readers are still to be sent. */
  #dropUnneeded(): void {
    let keepFrom = this.#end;
    for (const reader of this.#readers ?? []) keepFrom = Math.min(keepFrom, reader.position);
    this.#dropBefore(keepFrom);
  }

  /**
   * Up to `maxBytes` held bytes from `from` on, or undefined when there are none. Starts at `start`
   * when `from` is older than that (the caller reports the difference as a gap).
   */
  read(from: number, maxBytes: number): LogChunk | undefined {
    const offset = Math.max(from, this.#start);
    if (offset >= this.#end) return undefined;
    // Readers are nearly always near the end: search backwards.
    for (let index = this.#chunks.length - 1; index >= 0; index--) {
      const chunk = this.#chunks[index]!;
      if (chunk.offset > offset) continue;
      const skip = offset - chunk.offset;
      return { offset, bytes: chunk.bytes.subarray(skip, skip + maxBytes) };
    }
    return undefined;
  }

  addReader(reader: LogReader): void {
    (this.#readers ??= new Set()).add(reader);
    this.readerMoved();
  }

  deleteReader(reader: LogReader): void {
    this.#readers?.delete(reader);
    if (this.#readers?.size === 0) this.#readers = undefined;
    this.readerMoved();
    if (this.#ended && !this.#readers) this.#settle();
  }

  /** Call when a reader's position advanced: the producer may be waiting for room, and old history may go. */
  readerMoved(): void {
    if (this.#held > this.capacityBytes) this.#trim();
    // Discarded: what the readers have now been sent goes, and all of it once the last one leaves
    // (it stayed, up to a capacity, for as long as the session remembered the exec).
    if (this.#discarded) this.#dropUnneeded();
    if (this.#hasRoom()) this.#releaseRoom();
  }

  /** A promise that settles once the producer may add more, or undefined when it may now. */
  waitForRoom(): Promise<void> | undefined {
    if (this.#hasRoom()) return undefined;
    this.#roomWaiter ??= Promise.withResolvers<void>();
    return this.#roomWaiter.promise;
  }

  #hasRoom(): boolean {
    if (this.#ended || !this.#readers) return true;
    return this.#end - this.#furthest() < this.capacityBytes;
  }

  #releaseRoom(): void {
    const waiter = this.#roomWaiter;
    this.#roomWaiter = undefined;
    waiter?.resolve();
  }

  /** Where the pacing reader furthest ahead stands; Infinity with none. */
  #furthest(): number {
    if (!this.#readers) return Infinity;
    let furthest = -1;
    for (const reader of this.#readers) if (reader.paces !== false) furthest = Math.max(furthest, reader.position);
    return furthest < 0 ? Infinity : furthest;
  }

  /**
   * Drops the oldest bytes, keeping the last `capacityBytes` before the furthest reader's position
   * as well as everything after it. Bytes a reader was sent may still be in flight when its socket
   * drops, so the history behind the position is what a reconnecting client replays from; the bytes
   * after it are bounded by the pacing (one capacity, plus one read).
   */
  #trim(): void {
    const furthest = this.#furthest();
    let keepFrom = Math.min(furthest === Infinity ? this.#end : furthest, this.#end) - this.capacityBytes;
    const hardCap = Math.max(HARD_CAP_FACTOR * this.capacityBytes, HARD_CAP_MIN_BYTES);
    for (const reader of this.#readers ?? []) {
      if (reader.retainFrom === undefined || reader.paces === false) continue;
      // What a reader acknowledged is bounded by its ack window while it is the one furthest ahead.
      // One more than the hard cap behind the furthest (an acking socket that stopped acknowledging
      // while another socket of the session reads on) keeps no more than that cap, as a lagging
      // reader of a PTY does, and learns of the rest as a gap: it kept every byte since its last
      // ack (found by an audit: 400 MB of output held 318 MiB of the server).
      const lagging = furthest !== Infinity && furthest - reader.position > hardCap;
      keepFrom = Math.min(keepFrom, lagging ? furthest - hardCap : reader.retainFrom);
    }
    // A producer that cannot be paused (a PTY in raw mode, or the few MiB a flood writes before ^S
    // takes effect) must not grow the log without bound: past a hard cap of unsent bytes the oldest
    // go even if unsent, and the readers behind learn of them as a gap.
    if (furthest !== Infinity && this.#end - furthest > hardCap) keepFrom = Math.max(keepFrom, this.#end - hardCap);
    this.#dropBefore(keepFrom);
  }

  /** Drops the bytes before `keepFrom`. */
  #dropBefore(keepFrom: number): void {
    while (this.#start < keepFrom && this.#chunks.length > 0) {
      const first = this.#chunks[0]!;
      const excess = keepFrom - first.offset;
      if (excess <= 0) return;
      if (first.bytes.byteLength <= excess) {
        this.#chunks.shift();
        if (this.#chunks.length === 0) this.#tail = undefined;
        this.#held -= first.bytes.byteLength;
        this.#start = first.offset + first.bytes.byteLength;
        this.#drop(first);
      } else {
        first.bytes = first.bytes.subarray(excess);
        first.offset += excess;
        // A trimmed chunk no longer starts where its buffer does: stop appending to it.
        if (this.#chunks.length === 1) this.#tail = undefined;
        this.#held -= excess;
        this.#start = first.offset;
      }
    }
    if (this.#chunks.length === 0) this.#start = Math.max(this.#start, keepFrom);
  }

  /** A chunk is out of the log: its buffer goes now if nothing else can be reading it. */
  #drop(chunk: HeldChunk): void {
    if (chunk.owned && this.freesBuffers) freeBuffer(chunk.bytes);
  }
}
