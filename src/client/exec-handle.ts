import * as v from "valibot";
import {
  SIGNAL_NAMES,
  type ExecMessage,
  TerminalSizeSchema,
  describeIssue,
  type ExecInfo,
  type OutputEncoding,
  type OutputStream as OutputStreamName,
  type SignalName,
  type StartedMessage,
  type StdinAckMessage,
  type TerminalSize,
} from "../protocol/index.ts";
import { createDeferred } from "./deferred.ts";
import { BunkerError, quiet } from "./errors.ts";
import type { ExecExit, ExecHandle, ExecStarted, ExecTransport } from "./exec-handle-types.ts";
import { OutputAcks } from "./output-acks.ts";
import { OutputBuffer } from "./output-stream.ts";
import { StdinSender } from "./stdin-sender.ts";

/** How a handle begins: a new exec waits for `started`, an attached one is running already. */
export interface ExecHandleInit {
  id: string;
  encoding: OutputEncoding;
  ackWindowBytes: number | undefined;
  /** False when the exec was started without stdin, so writes fail here rather than at the server. */
  stdinOpen: boolean;
  attached?: { info: ExecInfo | undefined; offsets: { stdout: number; stderr: number } };
  /** For a new exec: its message, sent again as it is when the session resumes before `started`. */
  execMessage?: ExecMessage;
}

type State = "pending" | "running" | "exited" | "failed" | "detached";

/** The client side of one exec. The session routes the exec's messages to it. */
export class ClientExecHandle implements ExecHandle {
  readonly id: string;
  readonly stdout: OutputBuffer;
  readonly stderr: OutputBuffer;
  readonly started: Promise<ExecStarted>;
  readonly exited: Promise<ExecExit>;
  readonly errors: BunkerError[] = [];
  readonly #encoding: OutputEncoding;
  readonly #ackWindowBytes: number | undefined;
  readonly #acks: OutputAcks;
  readonly #settleStarted: { resolve: (started: ExecStarted) => void; reject: (error: Error) => void };
  readonly #settleExited: { resolve: (exit: ExecExit) => void; reject: (error: Error) => void };
  #state: State;
  /** A PTY exec's terminal size as the server last said it (see ExecHandle.size). */
  #size: TerminalSize | undefined;
  #stdinOpen: boolean;
  /**
   * What a write rejects with: a refused stdin write or credit request, or why the handle stopped
   * following the exec (failed, detached), whichever came first.
   */
  #writeFailure: BunkerError | undefined;
  /** An `attach` was sent and nothing has answered it yet: an error now refuses the attach. */
  #attachPending = false;
  readonly #stdin: StdinSender;
  readonly #execMessage: ExecMessage | undefined;
  /**
   * Detached before `started` came: the server may never have had the exec (it was made during an
   * outage, or lost with the socket), so a resume whose `hello` does not list it sends it again,
   * followed by `detach`, until the server answers it. The exec goes on without this handle, as
   * `detach()` promises.
   */
  #detachedUnstarted = false;
  /**
   * `detach()` was called and the server may not have had it: it went out on the socket that then
   * dropped (lost in flight, or in its send queue), or was not sent during an outage. The dropped
   * socket's position then holds the exec's output, pacing it, for the server's `--hold-output`.
   */
  #detachUnheard = false;

  constructor(
    init: ExecHandleInit,
    private readonly transport: ExecTransport,
  ) {
    this.id = init.id;
    this.#encoding = init.encoding;
    this.#ackWindowBytes = init.ackWindowBytes;
    this.#stdinOpen = init.stdinOpen;
    this.#execMessage = init.execMessage;
    // Matters only with a server that predates credit: an attached exec may have had stdin from
    // other writers before, and its acks count those too.
    this.#stdin = new StdinSender(
      {
        id: this.id,
        transport,
        // Stdin is asked for once the exec exists: a refused exec fails the write with its own error.
        untilStarted: () => (this.#state === "pending" ? this.started.then(() => {}, () => {}) : Promise.resolve()),
        checkWritable: () => this.#checkWritable(),
        checkFollowing: () => this.#checkFollowing(),
        // Not once detached: the socket may hold a newer handle of the exec, and the server's answer
        // (its count of the socket's bytes) would go to that one, which counts for itself.
        mayGiveBack: () => this.#stdinOpen && this.live,
        ended: () => {
          this.#stdinOpen = false;
        },
      },
      init.attached === undefined,
      // Where its bytes start in the exec's stdin, for a resend after a resume: an attached exec's
      // stdin had what the session last heard of (other writers since then make the resend inexact).
      init.attached === undefined ? 0 : init.attached.info?.stdin?.received,
    );
    const start = init.attached?.offsets ?? { stdout: 0, stderr: 0 };
    this.#acks = new OutputAcks({ id: this.id, transport, live: () => this.live }, init.ackWindowBytes, start);
    this.stdout = new OutputBuffer("stdout", start.stdout, (offset) => this.#acks.consumed("stdout", offset));
    this.stderr = new OutputBuffer("stderr", start.stderr, (offset) => this.#acks.consumed("stderr", offset));
    const started = createDeferred<ExecStarted>();
    const exited = createDeferred<ExecExit>();
    this.started = quiet(started.promise);
    this.exited = quiet(exited.promise);
    this.#settleStarted = started;
    this.#settleExited = exited;
    this.#state = init.attached ? "running" : "pending";
    if (init.attached) {
      this.#attachPending = true;
      this.#size = init.attached.info?.size;
      started.resolve({ pid: init.attached.info?.pid ?? null });
    }
  }

  /** Whether the session still routes messages to this handle. */
  get live(): boolean {
    return this.#state === "pending" || this.#state === "running";
  }

  /** How `output` data of this exec is encoded in JSON: binary execs fall back to base64 there. */
  get jsonDataIsBase64(): boolean {
    return this.#encoding !== "utf8";
  }

  get size(): TerminalSize | undefined {
    return this.#size;
  }

  /** Another socket of the session resized the exec's terminal. */
  onResized(size: TerminalSize): void {
    this.#size = size;
  }

  onStarted(message: StartedMessage): void {
    this.#detachedUnstarted = false;
    if (message.pty) this.#size = message.pty;
    if (this.#state !== "pending") return;
    this.#state = "running";
    this.#settleStarted.resolve({ pid: message.pid, ...(message.pty && { pty: message.pty }), ...(message.shell !== undefined && { shell: message.shell }) });
  }

  /** `rawBytes`: the raw length of a utf8 chunk whose text is not their exact UTF-8 (the message's `bytes`). */
  onOutput(stream: OutputStreamName, offset: number, bytes: Uint8Array, exact: boolean, rawBytes?: number): void {
    if (!this.live) return;
    this.#attachPending = false;
    const target = this.#stream(stream);
    target.push(offset, bytes, exact, rawBytes);
  }

  onGap(stream: OutputStreamName, from: number, to: number): void {
    if (!this.live) return;
    this.#attachPending = false;
    this.#stream(stream).gap(from, to);
  }

  onExit(facts: ExecExit): void {
    if (!this.live) return;
    this.#attachPending = false;
    if (this.#state === "pending") this.#settleStarted.resolve({ pid: null });
    this.#state = "exited";
    this.#stdinOpen = false;
    this.stdout.end();
    this.stderr.end();
    this.#settleExited.resolve(facts);
    this.#stdin.over();
  }

  /** Credit for stdin, or how far the command has read it: a write waiting for room may go on. */
  onStdinAck(message: StdinAckMessage): void {
    this.#stdin.acked(message);
  }

  /**
   * The server already has an exec of this id with the same request (a resent `exec`): nothing ran
   * again, and this socket is not subscribed. The handle attaches from the offsets it holds; the
   * server replays what it still keeps, then sends `exit` (at once, for a finished exec).
   */
  onState(info: ExecInfo): void {
    this.#detachedUnstarted = false;
    if (info.size) this.#size = info.size;
    if (!this.live) return;
    if (this.#state === "pending") {
      this.#state = "running";
      this.#attachPending = true;
      this.#settleStarted.resolve({ pid: info.pid });
      // The exec ran before this handle: its stdin may have had bytes from another writer.
      this.#stdin.countFromNextAck();
    }
    this.#sendAttach();
  }

  /** The session's socket dropped and it is reconnecting: the handle waits, its writes held. */
  disconnected(): void {
    if (this.live) this.#stdin.disconnected();
  }

  /**
   * The session resumed on a new socket, which is not subscribed to the exec. Before `started`, the
   * exec goes again with its id: the server runs it once, and answers with `state` if it has it
   * (see onState). After, the handle attaches from the bytes it holds: with an ack window the server
   * kept every byte past the last ack, so the output goes on exactly; without one, a `gap` says
   * what it no longer had. `info`: what the resumed `hello` says of the exec (its stdin count).
   */
  reconnected(info: ExecInfo | undefined): void {
    if (!this.live) return this.#letGoAfterResume(info);
    if (this.#state === "pending" && this.#execMessage) {
      this.transport.send(this.#execMessage);
    } else {
      this.#attachPending = true;
      this.#sendAttach();
    }
    this.#stdin.reconnected(info?.stdin);
  }

  /**
   * After a resume, for a detached handle (`info`: what the resumed `hello` says of the exec). One
   * detached before `started` came, of an exec the server does not have, is sent again, then
   * detached: it runs once, unfollowed. One whose `detach` the server may not have had (see
   * #detachUnheard) sends `attach`, which ends the dropped socket's hold (any socket's attach does),
   * then `detach`, which ends the new socket's subscription; its window of one byte keeps what comes
   * in between to a byte per stream.
   */
  #letGoAfterResume(info: ExecInfo | undefined): void {
    const unheard = this.#detachUnheard;
    this.#detachUnheard = false;
    if (info === undefined) {
      if (!this.#detachedUnstarted || !this.#execMessage) return;
      this.transport.send(this.#execMessage);
      this.transport.send({ type: "detach", id: this.id });
      return;
    }
    // The server has the exec: sending it again could only be answered with its state.
    this.#detachedUnstarted = false;
    // A viewer's positions never hold output; a finished exec's hold paces nothing.
    if (!unheard || this.transport.viewer || info.state !== "running") return;
    this.#sendAttach(1);
    this.transport.send({ type: "detach", id: this.id });
  }

  #sendAttach(ackWindowBytes = this.#ackWindowBytes): void {
    this.transport.send({
      type: "attach",
      id: this.id,
      offsets: { stdout: this.stdout.offset, stderr: this.stderr.offset },
      encoding: this.#encoding,
      ...(ackWindowBytes !== undefined && { ackWindowBytes }),
    });
  }

  /**
   * An `error` about this exec. Before `started`, or as the answer to an `attach` (`unknown_exec`,
   * `bad_message` for an offset past the output), it ends the handle; otherwise it is recorded, and
   * a refused stdin write fails later writes, because the bytes it carried are lost.
   */
  onError(error: BunkerError): void {
    if (!this.live) return;
    // The server predates stdin credit: the writes pace by `stdin.ack` offsets instead.
    if (this.#stdin.takeRefusal(error)) return;
    if (this.#state === "pending") return this.fail(error);
    if (this.#attachPending && (error.code === "unknown_exec" || error.code === "bad_message")) return this.fail(error);
    this.errors.push(error);
    // Later writes fail with it, and one waiting for room fails now rather than at the exit.
    if (this.#stdin.failsWrites(error)) {
      this.#writeFailure = error;
      this.#stdin.release();
    }
  }

  /** Ends the handle with a failure: the connection closed, or the server refused the exec. */
  fail(error: BunkerError): void {
    if (!this.live) return;
    this.#state = "failed";
    this.#writeFailure ??= error;
    this.#stdinOpen = false;
    this.#settleStarted.reject(error);
    this.#settleExited.reject(error);
    this.stdout.fail(error);
    this.stderr.fail(error);
    this.#stdin.over();
  }

  write(data: string | Uint8Array): Promise<void> {
    return this.#stdin.write(data, false);
  }

  end(data?: string | Uint8Array): Promise<void> {
    return this.#stdin.write(data ?? new Uint8Array(0), true);
  }

  signal(name: SignalName): boolean {
    if (!(SIGNAL_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`signal: ${JSON.stringify(name)} is not one of ${SIGNAL_NAMES.join(", ")}`);
    }
    // A viewer may not act on an exec: the server would refuse, and only `errors` would say so.
    return this.live && !this.transport.viewer && this.transport.send({ type: "signal", id: this.id, signal: name });
  }

  resize(size: TerminalSize): boolean {
    const checked = v.safeParse(TerminalSizeSchema, size);
    if (!checked.success) throw new TypeError(`resize: ${describeIssue(checked.issues[0])} (got ${JSON.stringify(size)})`);
    if (!this.live || this.transport.viewer || !this.transport.send({ type: "resize", id: this.id, cols: size.cols, rows: size.rows })) return false;
    // The server tells only the other sockets (`resized`): this one knows.
    this.#size = { cols: size.cols, rows: size.rows };
    return true;
  }

  detach(): void {
    if (!this.live) return;
    this.transport.send({ type: "detach", id: this.id });
    this.#detachUnheard = true;
    const error = new BunkerError("detached", `exec ${JSON.stringify(this.id)} was detached before it exited`, { execId: this.id });
    this.#detachedUnstarted = this.#state === "pending" && this.#execMessage !== undefined;
    this.#state = "detached";
    this.#writeFailure ??= error;
    this.#settleStarted.reject(error);
    this.#settleExited.reject(error);
    this.stdout.end();
    this.stderr.end();
    this.#stdin.over();
  }

  /**
   * Before `close`: an exec with an ack window is detached on the server (the handle keeps what
   * it holds), because the server drops acks after `close` and would wait on the window.
   */
  releaseWindow(): void {
    if (this.#ackWindowBytes !== undefined && this.live) this.transport.send({ type: "detach", id: this.id });
  }

  #checkFollowing(): void {
    // A refused write, or a drop or a detach while a write waited: its own code (limit_exceeded,
    // connection_closed, detached), not invalid_state.
    if (this.#writeFailure) throw this.#writeFailure;
    if (this.#state === "exited") {
      throw new BunkerError("invalid_state", `exec ${JSON.stringify(this.id)} has exited: it takes no more stdin`, { execId: this.id });
    }
  }

  #stream(name: OutputStreamName): OutputBuffer {
    return name === "stdout" ? this.stdout : this.stderr;
  }

  #checkWritable(): void {
    this.#checkFollowing();
    if (!this.#stdinOpen) {
      throw new BunkerError("invalid_state", `exec ${JSON.stringify(this.id)} takes no stdin: it was started without stdin, its stdin was ended, or it is over`, { execId: this.id });
    }
  }
}
