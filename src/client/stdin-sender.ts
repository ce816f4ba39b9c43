import type { StdinAckMessage } from "../protocol/index.ts";
import { createDeferred, type Deferred } from "./deferred.ts";
import { BunkerError } from "./errors.ts";
import type { ExecTransport } from "./exec-handle-types.ts";
import { StdinCredit } from "./stdin-credit.ts";
import { yieldToSocketEvents } from "./websocket.ts";

const encoder = new TextEncoder();

/** What a StdinSender needs from the exec handle it writes for. */
export interface StdinSenderHost {
  readonly id: string;
  readonly transport: ExecTransport;
  /** Settles once the exec exists or was refused: stdin (and credit) is asked for only then. */
  untilStarted(): Promise<void>;
  /** Throws the reason the exec takes no stdin now (exited, ended, detached, dropped, refused). */
  checkWritable(): void;
  /** Whether a `contended` may still be answered: stdin is open, and the exec followed or detached. */
  mayGiveBack(): boolean;
  /** A write with end of file was sent. */
  ended(): void;
}

/**
 * One exec's stdin writes, in order, in pieces that fit the server's frame and the credit the
 * server gave (StdinCredit): past the server's bound it refuses a write and the bytes are lost, so
 * a write waits for room (`stdin.ack`) as a full pipe would.
 */
export class StdinSender {
  #writes: Promise<void> = Promise.resolve();
  /** What this handle's stdin may still send before the server's bound (`stdin.ack`). */
  readonly #credit: StdinCredit;
  /** Settled by the next `stdin.ack`, or when the exec ends: what a write waiting for room waits on. */
  #room: Deferred<void> | undefined;
  /** Writes queued or being sent: with none, the handle is idle, and gives back credit when asked to. */
  #writing = 0;

  /** `freshExec`: this handle started the exec (not an attach), so no other writer came before it. */
  constructor(
    private readonly host: StdinSenderHost,
    freshExec: boolean,
  ) {
    this.#credit = new StdinCredit(freshExec);
  }

  /** Queues a write (and end of file); resolves once handed to the socket. */
  write(data: string | Uint8Array, eof: boolean): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`write: expected a string or a Uint8Array, got ${typeof data}`);
    this.#writing++;
    const done = this.#writes.then(() => this.#send(bytes, eof));
    this.#writes = done
      .catch(() => {})
      .then(() => {
        if (--this.#writing === 0) this.#giveBackCredit();
      });
    return done;
  }

  /** Credit for stdin, or how far the command has read it: a write waiting for room may go on. */
  acked(message: StdinAckMessage): void {
    this.#credit.acked(message);
    if (this.#writing === 0) this.#giveBackCredit();
    this.release();
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
    this.release();
    return true;
  }

  /**
   * Whether `error` leaves the writes nothing to wait for: a refused write (its bytes are lost), or
   * a refused `credit: true` (no stdin, or it has ended, or the exec has as many writers as it may).
   */
  failsWrites(error: BunkerError): boolean {
    return error.code === "limit_exceeded" || (this.#credit.asking && (error.code === "invalid_state" || error.code === "unknown_exec"));
  }

  /** Wakes a write waiting for room: to go on, or to find the exec ended and fail. */
  release(): void {
    const room = this.#room;
    this.#room = undefined;
    room?.resolve();
  }

  async #send(bytes: Uint8Array, eof: boolean): Promise<void> {
    await this.host.untilStarted();
    const { transport, id } = this.host;
    let start = 0;
    do {
      this.host.checkWritable();
      // messageBytes fits the server's frame limit (256 KiB at most, message-bytes.ts).
      const most = Math.min(transport.messageBytes, bytes.byteLength - start);
      if (most > 0) await this.#roomFor();
      // Lets the exec's exit and any refusal in first, and timers: a loop of awaited writes that
      // only joined would otherwise hold the event loop until a message is full (~0.5 s of
      // 1-byte writes), and write on past an exit it could not see.
      await yieldToSocketEvents();
      this.host.checkWritable();
      // Cut to the credit there is: a piece waits for room only while there is none at all.
      let piece = bytes.subarray(start, start + Math.min(most, this.#credit.available()));
      if (piece.byteLength === 0 && most > 0) continue;
      if (piece.byteLength === 0 && !eof) return;
      // While this exec's last message still waits for the server's rate, the piece goes with it;
      // otherwise it waits for what is queued before it.
      if (!transport.joinQueuedStdin(id, piece, eof && start + piece.byteLength >= bytes.byteLength)) {
        await transport.drained();
        this.host.checkWritable();
        // The credit may have changed meanwhile (a stdin.ack): cut again.
        piece = bytes.subarray(start, start + Math.min(most, this.#credit.available()));
        if (piece.byteLength === 0 && most > 0) continue;
        if (!transport.sendStdin(id, piece, eof && start + piece.byteLength >= bytes.byteLength)) {
          throw new BunkerError("connection_closed", `the connection closed before stdin of exec ${JSON.stringify(id)} was sent`, { execId: id });
        }
      }
      start += piece.byteLength;
      this.#credit.sent(piece.byteLength);
    } while (start < bytes.byteLength);
    if (eof) this.host.ended();
  }

  /**
   * Waits until some bytes fit in what the server holds for a command that has not read them yet
   * (MAX_PENDING_STDIN_BYTES), as its credit tells (see StdinCredit): past it the server refuses the
   * write and the bytes are lost. A command that never reads keeps its writer waiting here, as a
   * full pipe would.
   */
  async #roomFor(): Promise<void> {
    if (this.#credit.unasked) this.#askCredit();
    while (this.#credit.available() === 0) {
      // Out of credit while another writer waits for room: what is left goes back, so both go on.
      this.#giveBackCredit();
      await (this.#room ??= createDeferred<void>()).promise;
      this.host.checkWritable();
    }
  }

  /** `credit: true`: asks for stdin credit (the first time), or gives back what is not used. */
  #askCredit(): void {
    if (this.host.transport.send({ type: "stdin", id: this.host.id, credit: true })) this.#credit.asked();
  }

  /** Answers `contended` when idle or out of credit (see StdinCredit), while the handle follows the exec. */
  #giveBackCredit(): void {
    if (this.#credit.contended && this.host.mayGiveBack()) this.#askCredit();
  }
}
