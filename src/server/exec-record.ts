import type { ExecInfo, ExecMessage, ExitFactsMessage, ExitMessage, OutputEncoding, OutputStream, ResizedMessage, TerminalSize } from "../protocol/index.ts";
import { OutputLog } from "../exec/output-log.ts";
import { summarizeCommand } from "./command-summary.ts";
import type { RunningExec } from "../exec/run-exec.ts";
import type { ConnectionSink } from "./connection-sink.ts";
import { StdinLedger } from "./stdin-ledger.ts";
import { Subscription, type SubscribedExec } from "./subscription.ts";

/**
 * What tells a resent exec from a new one with the same id: a digest of its request as it came
 * (the JSON that came, serialised again), and that JSON's size in UTF-8 bytes, which is what the
 * session's record budget counts (finished-execs.ts). Not the JSON itself: the record keeps the
 * request already, and a copy of it as text doubled what a session of large commands kept (up to
 * the 8 MiB of requests a session keeps, once as objects and once as text).
 */
export interface RequestFingerprint {
  readonly digest: string;
  readonly bytes: number;
}

/** The fingerprint of an exec request, as it came, before anything is done with it. */
export function fingerprintOf(message: ExecMessage): RequestFingerprint {
  const json = JSON.stringify(message);
  return { digest: Bun.CryptoHasher.hash("sha256", json, "base64"), bytes: Buffer.byteLength(json) };
}

/**
 * Everything a session keeps about one exec, running or not: the request (to tell a resent exec
 * from a new one), its output logs, its exit, and the connections it is streamed to.
 */
export class ExecRecord implements SubscribedExec {
  readonly logs: Record<OutputStream, OutputLog>;
  readonly startedAt = Date.now();
  /** Made with the first subscription, dropped with the last (see OutputLog's readers): most remembered execs have none. */
  #subscriptions: Map<ConnectionSink, Subscription> | undefined;
  running: RunningExec | undefined;
  pid: number | null = null;
  #exit: ExitFactsMessage | undefined;
  /** Who wrote stdin and what they are told (`stdin.ack`); made on the first `stdin` message. */
  #stdin: StdinLedger | undefined;
  /** Stdin bytes taken in from every socket, and whether `eof` came (ExecInfo.stdin). */
  #stdinReceived = 0;
  #stdinEnded = false;
  /** A PTY exec's terminal size after the last resize (the request's until then). */
  #size: TerminalSize | undefined;

  constructor(
    readonly id: string,
    readonly request: ExecMessage,
    /** An exec resent with the same id and the same fingerprint is the same exec. */
    readonly fingerprint: RequestFingerprint,
    logBytes: number,
  ) {
    // Subscriptions send what they read before reading on: the logs may free what they drop.
    this.logs = { stdout: new OutputLog(logBytes, true), stderr: new OutputLog(logBytes, true) };
    const flushAll = () => this.#flushAll();
    this.logs.stdout.onChange = flushAll;
    this.logs.stderr.onChange = flushAll;
    this.#size = request.pty;
  }

  /** The terminal took `size` at `by`'s request: the others following the exec are told (`resized`). */
  resized(size: TerminalSize, by: ConnectionSink): void {
    this.#size = size;
    const text = JSON.stringify({ type: "resized", id: this.id, cols: size.cols, rows: size.rows } satisfies ResizedMessage);
    for (const sink of this.#subscriptions?.keys() ?? []) if (sink !== by) sink.send(text);
  }

  get encoding(): OutputEncoding {
    return this.request.encoding ?? "utf8";
  }

  get exited(): boolean {
    return this.#exit !== undefined;
  }

  /** Records the exit; subscribers get it after the last of their output. */
  finish(exit: ExitFactsMessage): void {
    this.running = undefined;
    this.#stdin = undefined;
    this.#exit = exit;
    for (const log of Object.values(this.logs)) log.finish();
    this.#flushAll();
  }

  exitMessage(): ExitMessage | undefined {
    return this.#exit && { type: "exit", id: this.id, ...this.#exit };
  }

  /** A socket sent a `stdin` message: from now on it hears how far the command has read (`stdin.ack`). */
  stdinWrittenBy(sink: ConnectionSink): void {
    (this.#stdin ??= new StdinLedger(this.id)).writtenBy(sink);
  }

  /** The exec took in `bytes` of a socket's `stdin` message (after stdinWrittenBy). */
  stdinReceived(sink: ConnectionSink, bytes: number): void {
    this.#stdinReceived += bytes;
    this.#stdin?.received(sink, bytes);
  }

  /** A socket sent `eof`: the command's stdin is closed. */
  stdinEnded(): void {
    this.#stdinEnded = true;
  }

  /** A socket asked for stdin credit (`credit: true`): it is answered with its limit; false when the exec has as many credit writers as it may. */
  stdinCreditAsked(sink: ConnectionSink): boolean {
    return (this.#stdin ??= new StdinLedger(this.id)).creditAsked(sink);
  }

  /** The command has taken `offset` bytes of stdin in all: writers are told (see StdinLedger). */
  stdinTaken(offset: number): void {
    this.#stdin?.taken(offset);
  }

  /** A socket left the session: what it held of the exec's stdin credit is room again. */
  stdinWriterLeft(sink: ConnectionSink): void {
    this.#stdin?.left(sink);
  }

  /** Streams this exec to a connection from the given offsets, replacing an earlier subscription of it. */
  subscribe(
    sink: ConnectionSink,
    options: { encoding?: OutputEncoding; ackWindowBytes?: number | undefined; from?: Partial<Record<OutputStream, number>> },
  ): void {
    const previous = this.#subscriptions?.get(sink);
    // The new position is registered before older ones go, so that the history it needs is kept.
    const subscription = new Subscription(this, sink, {
      encoding: options.encoding ?? this.encoding,
      // An attach says for itself whether it acknowledges; the exec's own setting is for its starters.
      ackWindowBytes: "ackWindowBytes" in options ? options.ackWindowBytes : this.request.ackWindowBytes,
      from: { stdout: options.from?.stdout ?? 0, stderr: options.from?.stderr ?? 0 },
    });
    previous?.close();
    (this.#subscriptions ??= new Map()).set(sink, subscription);
    // A client attaching ends the hold of dropped sockets (it is the one to be paced now); a viewer,
    // which never paces, does not: the agent that dropped keeps its bytes for its reconnect.
    if (sink.viewer !== true) this.releaseHeld();
    subscription.flush();
  }

  unsubscribe(sink: ConnectionSink): void {
    this.#subscriptions?.get(sink)?.close();
    this.#forget(sink);
  }

  /** Ends every subscription: the exec's output no longer waits for anyone (the session is ending). */
  unsubscribeAll(): void {
    for (const sink of [...(this.#subscriptions?.keys() ?? [])]) this.unsubscribe(sink);
  }

  /**
   * Ends the subscriptions of sockets that dropped but whose positions were still holding the
   * output (see Session.leave); called when someone attaches, or when the hold runs out.
   */
  releaseHeld(sinks?: ReadonlySet<ConnectionSink>): void {
    for (const sink of [...(this.#subscriptions?.keys() ?? [])]) {
      if (sink.closed && (!sinks || sinks.has(sink))) this.unsubscribe(sink);
    }
  }

  /** Whether some connection is still being sent this exec (or holds its output, see releaseHeld). */
  get streaming(): boolean {
    return this.#subscriptions !== undefined;
  }

  subscription(sink: ConnectionSink): Subscription | undefined {
    return this.#subscriptions?.get(sink);
  }

  /** Sends what each connection can take now (after new output, a drain or the exit). */
  #flushAll(): void {
    if (!this.#subscriptions) return;
    for (const [sink, subscription] of this.#subscriptions) {
      subscription.flush();
      if (subscription.done) this.#forget(sink);
    }
  }

  /** Drops a connection's subscription from the map (the map too, with its last). */
  #forget(sink: ConnectionSink): void {
    this.#subscriptions?.delete(sink);
    if (this.#subscriptions?.size === 0) this.#subscriptions = undefined;
  }

  /** Flushes one connection's subscription, after its socket drained. */
  flushFor(sink: ConnectionSink): void {
    const subscription = this.#subscriptions?.get(sink);
    if (!subscription) return;
    subscription.flush();
    if (subscription.done) this.#forget(sink);
  }

  /**
   * Drops the kept output (the session keeps too much); the exit stays known. "keep": not what a
   * socket is still to be sent; "drop": that too (see FinishedExecs).
   */
  discardOutput(unsent: "keep" | "drop" = "keep"): void {
    for (const log of Object.values(this.logs)) {
      if (unsent === "keep") log.discard();
      else log.discardAll();
    }
  }

  get heldBytes(): number {
    return this.logs.stdout.heldBytes + this.logs.stderr.heldBytes;
  }

  /** The exec as listings show it; `commandBytes`: its command cut to that many bytes (see summarizeCommand). */
  info(commandBytes?: number): ExecInfo {
    const { request } = this;
    return {
      id: this.id,
      ...summarizeCommand(request, commandBytes),
      ...(request.shell !== undefined && { shell: request.shell }),
      pty: request.pty !== undefined,
      ...(this.#size && { size: this.#size }),
      state: this.#exit ? "exited" : "running",
      ...(!this.#exit && this.running?.paused && { paused: true as const }),
      pid: this.pid,
      startedAt: this.startedAt,
      ...(this.#exit && { exit: this.#exit }),
      bytes: { stdout: this.logs.stdout.end, stderr: this.logs.stderr.end },
      ...((request.stdin === true || request.pty !== undefined) && { stdin: { received: this.#stdinReceived, ended: this.#stdinEnded } }),
    };
  }
}
