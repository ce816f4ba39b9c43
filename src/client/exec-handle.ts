import * as v from "valibot";
import {
  SIGNAL_NAMES,
  TerminalSizeSchema,
  describeIssue,
  type ExecInfo,
  type OutputStream as OutputStreamName,
  type SignalName,
  type StartedMessage,
  type StdinAckMessage,
  type TerminalSize,
} from "../protocol/index.ts";
import { createDeferred } from "./deferred.ts";
import { BunkerError, quiet } from "./errors.ts";
import type { ExecExit, ExecHandle, ExecHandleInit, ExecStarted, ExecTransport } from "./exec-handle-types.ts";
import { ExecOutput } from "./exec-output.ts";
import { ExecResume } from "./exec-resume.ts";
import type { OutputBuffer } from "./output-stream.ts";
import { StdinSender } from "./stdin-sender.ts";

type State = "pending" | "running" | "exited" | "failed" | "detached";

/** The client side of one exec. The session routes the exec's messages to it. */
export class ClientExecHandle implements ExecHandle {
  readonly id: string;
  readonly stdout: OutputBuffer;
  readonly stderr: OutputBuffer;
  readonly started: Promise<ExecStarted>;
  readonly exited: Promise<ExecExit>;
  readonly errors: BunkerError[] = [];
  readonly #output: ExecOutput;
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
  readonly #resume: ExecResume;

  constructor(
    init: ExecHandleInit,
    private readonly transport: ExecTransport,
  ) {
    this.id = init.id;
    this.#stdinOpen = init.stdinOpen;
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
    this.#output = new ExecOutput({ id: this.id, encoding: init.encoding, ackWindowBytes: init.ackWindowBytes, start, transport, live: () => this.live });
    this.stdout = this.#output.stdout;
    this.stderr = this.#output.stderr;
    this.#resume = new ExecResume({ id: this.id, transport, execMessage: init.execMessage, attachMessage: (window) => this.#output.attachMessage(window) });
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
    return this.#output.jsonDataIsBase64;
  }

  get size(): TerminalSize | undefined {
    return this.#size;
  }

  /** Another socket of the session resized the exec's terminal. */
  onResized(size: TerminalSize): void {
    this.#size = size;
  }

  onStarted(message: StartedMessage): void {
    this.#resume.answered();
    if (message.pty) this.#size = message.pty;
    if (this.#state !== "pending") return;
    this.#state = "running";
    this.#settleStarted.resolve({ pid: message.pid, ...(message.pty && { pty: message.pty }), ...(message.shell !== undefined && { shell: message.shell }) });
  }

  /** `rawBytes`: the raw length of a utf8 chunk whose text is not their exact UTF-8 (the message's `bytes`). */
  onOutput(stream: OutputStreamName, offset: number, bytes: Uint8Array, exact: boolean, rawBytes?: number): void {
    if (!this.live) return;
    this.#attachPending = false;
    this.#output.stream(stream).push(offset, bytes, exact, rawBytes);
  }

  onGap(stream: OutputStreamName, from: number, to: number): void {
    if (!this.live) return;
    this.#attachPending = false;
    this.#output.stream(stream).gap(from, to);
  }

  onExit(facts: ExecExit): void {
    if (!this.live) return;
    this.#attachPending = false;
    if (this.#state === "pending") this.#settleStarted.resolve({ pid: null });
    this.#state = "exited";
    this.#stdinOpen = false;
    this.#output.end();
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
    this.#resume.answered();
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
    if (!this.live) return this.#resume.letGo(info);
    if (this.#state !== "pending" || !this.#resume.resendExec()) {
      this.#attachPending = true;
      this.#sendAttach();
    }
    this.#stdin.reconnected(info?.stdin);
  }

  #sendAttach(): void {
    this.transport.send(this.#output.attachMessage());
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
    this.#output.fail(error);
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
    this.#resume.detached(this.#state === "pending");
    const error = new BunkerError("detached", `exec ${JSON.stringify(this.id)} was detached before it exited`, { execId: this.id });
    this.#state = "detached";
    this.#writeFailure ??= error;
    this.#settleStarted.reject(error);
    this.#settleExited.reject(error);
    this.#output.end();
    this.#stdin.over();
  }

  /**
   * Before `close`: an exec with an ack window is detached on the server (the handle keeps what
   * it holds), because the server drops acks after `close` and would wait on the window.
   */
  releaseWindow(): void {
    if (this.#output.windowed && this.live) this.transport.send({ type: "detach", id: this.id });
  }

  #checkFollowing(): void {
    // A refused write, or a drop or a detach while a write waited: its own code (limit_exceeded,
    // connection_closed, detached), not invalid_state.
    if (this.#writeFailure) throw this.#writeFailure;
    if (this.#state === "exited") {
      throw new BunkerError("invalid_state", `exec ${JSON.stringify(this.id)} has exited: it takes no more stdin`, { execId: this.id });
    }
  }

  #checkWritable(): void {
    this.#checkFollowing();
    if (!this.#stdinOpen) {
      throw new BunkerError("invalid_state", `exec ${JSON.stringify(this.id)} takes no stdin: it was started without stdin, its stdin was ended, or it is over`, { execId: this.id });
    }
  }
}
