import type { ExecInfo, StdinAckMessage } from "../protocol/index.ts";
import { MAX_PENDING_STDIN_BYTES } from "../protocol/limits.ts";
import { createDeferred, type Deferred } from "./deferred.ts";
import { BunkerError } from "./errors.ts";
import type { ExecTransport } from "./exec-handle-types.ts";
import { StdinCredit } from "./stdin-credit.ts";
import { StdinTail } from "./stdin-tail.ts";
import { yieldToSocketEvents } from "./websocket.ts";

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** What a resumed session's `hello` says of an exec's stdin: bytes taken in from every socket, and whether `eof` came. */
export type StdinCount = NonNullable<ExecInfo["stdin"]>;

/** What a StdinSender needs from the exec handle it writes for. */
export interface StdinSenderHost {
  readonly id: string;
  readonly transport: ExecTransport;
  /** Settles once the exec exists or was refused: stdin (and credit) is asked for only then. */
  untilStarted(): Promise<void>;
  /** Throws the reason the exec takes no stdin now (exited, ended, detached, dropped, refused). */
  checkWritable(): void;
  /** Throws when the handle no longer follows the exec (exited, detached, failed): bytes already written may still be sent again. */
  checkFollowing(): void;
  /** Whether a `contended` may still be answered: stdin is open, and the exec followed or detached. */
  mayGiveBack(): boolean;
  /** A write with end of file was sent. */
  ended(): void;
}

/**
 * One exec's stdin writes, in order, in pieces that fit the server's frame and the credit the
 * server gave (StdinCredit): past the server's bound it refuses a write and the bytes are lost, so
 * a write waits for room (`stdin.ack`) as a full pipe would.
 *
 * When the session reconnects by itself (`transport.mayReconnect`), what was handed to a socket is
 * kept (StdinTail: at most the server's bound beyond what it surely has), writes wait while the
 * session is down, and once it is back the bytes from the server's count on (`reconnected`) go
 * again before anything new, then end of file if the server never got it.
 */
export class StdinSender {
  #writes: Promise<void> = Promise.resolve();
  /** What this handle's stdin may still send before the server's bound (`stdin.ack`). */
  readonly #credit: StdinCredit;
  /** Settled by the next `stdin.ack`, or when the exec ends: what a write waiting for room waits on. */
  #room: Deferred<void> | undefined;
  /** Writes queued or being sent: with none, the handle is idle, and gives back credit when asked to. */
  #writing = 0;
  /** Set while the connection is down (a send failed, or the session dropped), until it is back or the handle is over. */
  #gate: Deferred<void> | undefined;
  /** What was handed to sockets, for a resume; undefined when the session does not reconnect, or once the handle is over. */
  #tail: StdinTail | undefined;
  /** The exec's stdin offset of the tail's first byte: 0 for an exec this handle started; undefined when not known. */
  readonly #tailBase: number | undefined;
  #eofHanded = false;
  /** After a resume: what the server lacks, sent before anything new. */
  #replay: { pieces: Uint8Array[]; eof: boolean } | undefined;

  /**
   * `freshExec`: this handle started the exec (not an attach), so no other writer came before it.
   * `tailBase`: where this handle's bytes start in the exec's stdin (see #tailBase).
   */
  constructor(
    private readonly host: StdinSenderHost,
    freshExec: boolean,
    tailBase: number | undefined,
  ) {
    this.#credit = new StdinCredit(freshExec);
    this.#tail = host.transport.mayReconnect ? new StdinTail(MAX_PENDING_STDIN_BYTES) : undefined;
    this.#tailBase = tailBase;
  }

  /** Queues a write (and end of file); resolves once handed to the socket. */
  write(data: string | Uint8Array, eof: boolean): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`write: expected a string or a Uint8Array, got ${typeof data}`);
    return this.#enqueue(() => this.#send(bytes, eof));
  }

  /** Credit for stdin, or how far the command has read it: a write waiting for room may go on. */
  acked(message: StdinAckMessage): void {
    this.#credit.acked(message);
    if (this.#writing === 0) this.#giveBackCredit();
    this.#wakeRoom();
  }

  /** The exec ran before this handle (a resent `exec`): its stdin may have had bytes from another writer. */
  countFromNextAck(): void {
    this.#credit.countFromNextAck();
  }

  /**
   * Whether `error` is an old server refusing `credit: true`: the writes pace by `stdin.ack`
   * offsets from now on, and the error is the sender's, not the exec's.
   */
  takeRefusal(error: BunkerError): boolean {
    if (!this.#credit.takeRefusal(error.code, error.message)) return false;
    this.#wakeRoom();
    return true;
  }

  /**
   * Whether `error` leaves the writes nothing to wait for: a refused write (its bytes are lost), a
   * socket that may not write at all (a viewer's: `forbidden_by_policy`), or a refused
   * `credit: true` (no stdin, or it has ended, or the exec has as many writers as it may).
   */
  failsWrites(error: BunkerError): boolean {
    if (error.code === "limit_exceeded" || error.code === "forbidden_by_policy") return true;
    return this.#credit.asking && (error.code === "invalid_state" || error.code === "unknown_exec");
  }

  /** Wakes a write waiting for room or for the connection: to go on, or to find the exec ended and fail. */
  release(): void {
    this.#wakeRoom();
    this.#openGate();
  }

  /**
   * The handle no longer follows the exec (it exited, failed or was detached): no resume will send
   * anything again, so the tail (up to the server's 8 MiB bound) is let go now rather than with the
   * handle, which a program may keep long after, and which the session keeps once detached.
   */
  over(): void {
    this.#tail = undefined;
    this.#replay = undefined;
    this.release();
  }

  /** The session dropped and is reconnecting: writes wait; the credit was the old socket's. */
  disconnected(): void {
    this.#gate ??= createDeferred<void>();
    this.#replay = undefined;
    this.#credit.restart();
    this.#wakeRoom();
  }

  /**
   * The session is back. `stdin`: what the resumed `hello` says the server took in of the exec's
   * stdin. The bytes past it that this handle wrote go again first (they were lost in flight, or
   * in the client's queue), and end of file if the server lacks it; undefined (an older server) or
   * a count that does not fit what this handle wrote: end of file only, as nothing says which bytes
   * arrived.
   */
  reconnected(stdin: StdinCount | undefined): void {
    this.#replay = this.#missing(stdin);
    this.#openGate();
    // A write under way catches up before its next piece; an idle handle still owes the lost bytes.
    if (this.#replay) void this.#enqueue(() => this.#caughtUp()).catch(() => {});
  }

  #missing(stdin: StdinCount | undefined): { pieces: Uint8Array[]; eof: boolean } | undefined {
    if (stdin?.ended) return undefined;
    const pieces = this.#tail && this.#tailBase !== undefined && stdin ? this.#tail.from(stdin.received - this.#tailBase) : undefined;
    if (pieces && stdin) this.#tail!.forgetBefore(stdin.received - this.#tailBase!);
    const missing = { pieces: pieces ?? [], eof: this.#eofHanded };
    return missing.pieces.length > 0 || missing.eof ? missing : undefined;
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    this.#writing++;
    const done = this.#writes.then(work);
    this.#writes = done
      .catch(() => {})
      .then(() => {
        if (--this.#writing === 0) this.#giveBackCredit();
      });
    return done;
  }

  async #send(bytes: Uint8Array, eof: boolean): Promise<void> {
    await this.host.untilStarted();
    await this.#transfer(bytes, eof, false);
    if (eof) this.host.ended();
  }

  /** Waits while the connection is down, then sends what a resume found missing; returns once neither is left. */
  async #caughtUp(): Promise<void> {
    for (;;) {
      if (this.#gate) {
        await this.#gate.promise;
        this.host.checkFollowing();
        continue;
      }
      const replay = this.#replay;
      if (!replay) return;
      this.#replay = undefined;
      // A drop in the middle stops it; the next resume works out what is missing afresh.
      for (const piece of replay.pieces) if (!(await this.#transfer(piece, false, true))) break;
      if (replay.eof && !this.#gate) await this.#transfer(EMPTY, true, true);
    }
  }

  /**
   * Sends `bytes` (then end of file) in pieces within the credit. A write's pieces join the tail as
   * they are handed over; a replay's are in it already. When the connection goes down, a replay
   * stops (false), and a write waits until the session is back and caught up, then goes on.
   */
  async #transfer(bytes: Uint8Array, eof: boolean, replay: boolean): Promise<boolean> {
    const { transport, id } = this.host;
    const check = replay ? () => this.host.checkFollowing() : () => this.host.checkWritable();
    let start = 0;
    /** Whether `piece`, cut at `start`, is the write's last: it carries the end of file. */
    const ends = (piece: Uint8Array) => eof && start + piece.byteLength >= bytes.byteLength;
    for (;;) {
      if (replay && this.#gate) return false;
      // Only while a drop is being caught up from: an idle await per piece is not free on a hot path.
      if (!replay && (this.#gate || this.#replay)) await this.#caughtUp();
      check();
      // messageBytes fits the server's frame limit (256 KiB at most, message-bytes.ts).
      const most = Math.min(transport.messageBytes, bytes.byteLength - start);
      if (most > 0 && !(await this.#roomFor(check))) continue;
      // Lets the exec's exit and any refusal in first, and timers: a loop of awaited writes that
      // only joined would otherwise hold the event loop until a message is full (~0.5 s of
      // 1-byte writes), and write on past an exit it could not see.
      await yieldToSocketEvents();
      check();
      // Cut to the credit there is: a piece waits for room only while there is none at all.
      let piece = bytes.subarray(start, start + Math.min(most, this.#credit.available()));
      if (piece.byteLength === 0 && most > 0) continue;
      if (piece.byteLength === 0 && !eof) return true;
      // While this exec's last message still waits for the server's rate, the piece goes with it;
      // otherwise it waits for what is queued before it.
      if (!transport.joinQueuedStdin(id, piece, ends(piece))) {
        await transport.drained();
        check();
        // The credit may have changed meanwhile (a stdin.ack): cut again.
        piece = bytes.subarray(start, start + Math.min(most, this.#credit.available()));
        if (piece.byteLength === 0 && most > 0) continue;
        if (!transport.sendStdin(id, piece, ends(piece))) {
          if (!transport.mayReconnect) throw new BunkerError("connection_closed", `the connection closed before stdin of exec ${JSON.stringify(id)} was sent`, { execId: id });
          // The drop may not be reported yet (a socket that is closing): wait for it, or the end.
          this.#gate ??= createDeferred<void>();
          continue;
        }
      }
      if (!replay && this.#tail) {
        this.#tail.append(piece);
        this.#tail.handedOver();
      }
      if (ends(piece)) this.#eofHanded = true;
      start += piece.byteLength;
      this.#credit.sent(piece.byteLength);
      if (start >= bytes.byteLength) return true;
    }
  }

  /**
   * Waits until some bytes fit in what the server holds for a command that has not read them yet
   * (MAX_PENDING_STDIN_BYTES), as its credit tells (see StdinCredit): past it the server refuses the
   * write and the bytes are lost. A command that never reads keeps its writer waiting here, as a
   * full pipe would. False when the connection went down meanwhile.
   */
  async #roomFor(check: () => void): Promise<boolean> {
    if (this.#credit.unasked && !this.#askCredit() && this.host.transport.mayReconnect) {
      this.#gate ??= createDeferred<void>();
      return false;
    }
    while (this.#credit.available() === 0) {
      // Out of credit while another writer waits for room: what is left goes back, so both go on.
      this.#giveBackCredit();
      await (this.#room ??= createDeferred<void>()).promise;
      if (this.#gate) return false;
      check();
    }
    return true;
  }

  /** `credit: true`: asks for stdin credit (the first time), or gives back what is not used. False when it could not be sent. */
  #askCredit(): boolean {
    if (!this.host.transport.send({ type: "stdin", id: this.host.id, credit: true })) return false;
    this.#credit.asked();
    return true;
  }

  /** Answers `contended` when idle or out of credit (see StdinCredit), while the handle follows the exec. */
  #giveBackCredit(): void {
    if (this.#credit.contended && this.host.mayGiveBack()) this.#askCredit();
  }

  #wakeRoom(): void {
    const room = this.#room;
    this.#room = undefined;
    room?.resolve();
  }

  #openGate(): void {
    const gate = this.#gate;
    this.#gate = undefined;
    gate?.resolve();
  }
}
