import type { ExecInfo, ServerMessage } from "../protocol/index.ts";
import type { ExecRecord } from "./exec-record.ts";
import { FinishedExecs } from "./finished-execs.ts";
import type { ServerOptions } from "./options.ts";
import type { TrackedExec } from "./session-shells.ts";
import type { ConnectionSink } from "./connection-sink.ts";
import type { ServerCounters, SessionConnection } from "./session.ts";

/** What a session's execs need of the session around them. */
export interface SessionExecsHooks {
  /** The sockets joined to the session now. */
  connections(): Iterable<SessionConnection>;
  /** Sends one message to every joined socket. */
  broadcast(message: ServerMessage): void;
  /** An exec has ended (its slot is free again): with no socket, the session's clock may start. */
  execEnded(): void;
}

/**
 * The execs of one session, running and finished, with what the server-wide limits count of them:
 * the running ones, the exec slots this session holds, the ones some socket is still being sent.
 */
export class SessionExecs {
  readonly #records = new Map<string, ExecRecord>();
  /**
   * The execs some connection is subscribed to: what a drain or a leave has to look at. A session
   * of an agent remembers thousands of finished execs; a drain must not walk them all. Made on the
   * first exec: an idle session should cost little.
   */
  #streaming: Set<ExecRecord> | undefined;
  /** Finished execs, the oldest forgotten first (see FinishedExecs); made on the first exit. */
  #finished: FinishedExecs | undefined;
  #running = 0;
  /** This session's share of ServerCounters.execSlots, against --max-execs-per-session. */
  #slots = 0;

  constructor(
    private readonly sessionId: string,
    private readonly options: ServerOptions,
    private readonly counters: ServerCounters,
    private readonly hooks: SessionExecsHooks,
  ) {}

  /** Execs still running. */
  get running(): number {
    return this.#running;
  }

  /** Slots this session holds against --max-execs-per-session. */
  get slots(): number {
    return this.#slots;
  }

  get(id: string): ExecRecord | undefined {
    return this.#records.get(id);
  }

  /** Every exec remembered, oldest first. */
  records(): IterableIterator<ExecRecord> {
    return this.#records.values();
  }

  /** Every exec remembered as listings show it, oldest first (`commandBytes`: see ExecRecord.info). */
  infos(commandBytes?: number): ExecInfo[] {
    return [...this.#records.values()].map((record) => record.info(commandBytes));
  }

  /** Marks an exec as having output to send to some socket (a drain or a leave will look at it). */
  markStreaming(record: ExecRecord): void {
    (this.#streaming ??= new Set()).add(record);
  }

  /** Whether some exec is still being sent to `sink` (or holds its output for it, see ExecRecord.releaseHeld). */
  isStreamingTo(sink: ConnectionSink): boolean {
    for (const record of this.#streaming ?? []) if (record.subscription(sink)) return true;
    return false;
  }

  /** Calls `each` for every exec some socket is being sent, then forgets those with nothing left to send. */
  forEachStreaming(each: (record: ExecRecord) => void): void {
    for (const record of this.#streaming ?? []) {
      each(record);
      if (!record.streaming) this.#streaming?.delete(record);
    }
  }

  /** Takes one slot against the exec limits (see ServerCounters.execSlots); the function returned gives it back, once. */
  holdSlot(): () => void {
    this.#slots++;
    this.counters.execSlots++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#slots--;
      this.counters.execSlots--;
    };
  }

  /** Makes a started exec known: `started` to every socket, its output to the joined ones, then its exit. */
  track(connection: SessionConnection, record: ExecRecord, running: TrackedExec, cwdPath: string): void {
    const { id, request: message } = record;
    record.pid = running.pid;
    this.#records.set(id, record);
    this.#running++;
    this.counters.runningExecs++;
    this.counters.runningOutput.add(record.logs);
    this.hooks.broadcast({ type: "started", id, pid: running.pid, ...(message.pty && { pty: message.pty }), ...(message.shell !== undefined && { shell: message.shell }) });
    // Only the socket that started the exec acknowledges by its ackWindowBytes; other joined sockets
    // (a viewer, say) are sent what their sockets take.
    for (const joined of this.hooks.connections()) record.subscribe(joined.sink, joined === connection ? {} : { ackWindowBytes: undefined });
    this.markStreaming(record);
    this.options.events?.onExecStart?.({ session: this.sessionId, cwd: cwdPath, exec: record.info() });
    // A shell's command rides on its shell's slot (SessionShells holds that one).
    const releaseSlot = message.shell === undefined ? this.holdSlot() : undefined;
    running.finished
      .finally(() => {
        this.#running--;
        this.counters.runningExecs--;
        releaseSlot?.();
        this.hooks.execEnded();
      })
      .then(
        (facts) => {
          if (facts.spawnError) this.hooks.broadcast({ type: "error", id, code: "spawn_failed", message: facts.spawnError });
          record.finish({
            code: facts.code,
            signal: facts.signal,
            reason: facts.reason,
            durationMs: facts.durationMs,
            // Persistent-shell commands: the shell's directory after the command, as the sandbox names it.
            ...(facts.cwd !== undefined && { cwd: facts.cwd }),
          });
          // Sent its exit everywhere (the usual case): nothing for a drain to look at any more.
          if (!record.streaming) this.#streaming?.delete(record);
          (this.#finished ??= new FinishedExecs(this.options.limits)).add(record, (gone) => {
            this.#records.delete(gone.id);
            this.#streaming?.delete(gone);
          });
        },
        (error: unknown) => {
          this.hooks.broadcast({ type: "error", id, code: "internal", message: `exec ${JSON.stringify(id)} failed inside the server: ${(error as Error).message}` });
          record.finish({ code: null, signal: null, reason: "killed", durationMs: Date.now() - record.startedAt });
        },
      )
      .finally(() => {
        // In the same step as the ended exec's bytes are counted (onExecEnd): /metrics never counts
        // them twice, nor goes back. A finally, so that no failure above leaves the log counted.
        this.counters.runningOutput.delete(record.logs);
        this.options.events?.onExecEnd?.({ session: this.sessionId, cwd: cwdPath, exec: record.info() });
      });
  }
}
