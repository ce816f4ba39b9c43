import { BunkerError, type ExecCommand, type ExecExit, type ExecHandle, type ExecOptions, type OutputStream, type Session, type SignalName, type TerminalSize } from "../client/index.ts";
import { CLOSE_CODES } from "../protocol/index.ts";
import { failureText, type ConnectContext } from "./connect-failure.ts";
import { reconnectSession } from "./reconnect.ts";
import type { StdinCount, StdinTarget } from "./stdin-forward.ts";
import { quote } from "./usage-error.ts";

/** How following an exec ended: its exit, a failure to run it, or the connection lost for good. */
export type ExecOutcome =
  | { kind: "exit"; exit: ExecExit }
  /** It could not run, or ended with the session (a refusal, a server shutting down): the error says why. */
  | { kind: "error"; error: unknown }
  /** The exec may still run on the server, or its outcome is unknown; `message` names session and exec. */
  | { kind: "lost"; message: string };

export interface ResumableExecOptions extends ConnectContext {
  url: string;
  token: string | undefined;
  command: ExecCommand;
  /** The exec's options; `ackWindowBytes` is also the window of every attach after a reconnect. */
  execOptions: ExecOptions & { ackWindowBytes: number };
  /** 0: a dropped connection is the end. */
  reconnectTimeoutMs: number;
  /** A named session stays when bunker gives up on the command; a new one ends with it. */
  sessionNamed: boolean;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Prints one line of bunker's own while the command runs. */
  notice(text: string): void;
  /** The local terminal's size now, for a PTY exec: sent again after a reconnect if it changed meanwhile. */
  terminalSize?: () => TerminalSize;
}

/**
 * Runs an exec and follows it to its exit across dropped connections, as ssh cannot: on an
 * abnormal close it resumes the session and attaches from the offsets already received, which
 * (with the ack window, under which the server keeps every byte not yet acknowledged) continues
 * the output with nothing twice and nothing missing. Output goes to the local streams in order,
 * each handle's after the one before. Signals sent while reconnecting wait for the new handle.
 */
export class ResumableExec implements StdinTarget {
  readonly outcome: Promise<ExecOutcome>;
  readonly #options: ResumableExecOptions;
  #session: Session;
  /** The handle following the exec now; undefined while reconnecting and once it is over. */
  #handle: ExecHandle | undefined;
  readonly #handles: ExecHandle[] = [];
  /** Each reconnect's handle: what the resumed session's hello said of the exec's stdin, when it said. */
  readonly #resumedStdin = new WeakMap<ExecHandle, StdinCount>();
  /** Each stream's copying so far: a new handle's output is written once the one before is. */
  #copied: Record<"stdout" | "stderr", Promise<void>> = { stdout: Promise.resolve(), stderr: Promise.resolve() };
  #started = false;
  #over = false;
  #abandoned = false;
  #resizedAway = false;
  readonly #pendingSignals: SignalName[] = [];
  #waiters = Promise.withResolvers<ExecHandle | undefined>();

  /** Starts the exec in `session`. Throws a TypeError on bad exec options, as `session.exec` does. */
  constructor(session: Session, options: ResumableExecOptions) {
    this.#options = options;
    this.#session = session;
    const first = session.exec(options.command, options.execOptions);
    this.#adopt(first);
    this.outcome = this.#follow(first).finally(() => {
      this.#over = true;
      this.#handle = undefined;
      this.#waiters.resolve(undefined);
    });
  }

  /** The session the exec is followed in now (the resumed one after a reconnect). */
  get session(): Session {
    return this.#session;
  }

  /** What the server said about the exec after it started, over every connection. */
  get errors(): BunkerError[] {
    return this.#handles.flatMap((handle) => handle.errors);
  }

  current(): ExecHandle | undefined {
    return this.#handle;
  }

  next(after: ExecHandle): Promise<ExecHandle | undefined> {
    if (this.#handle !== undefined && this.#handle !== after) return Promise.resolve(this.#handle);
    if (this.#over) return Promise.resolve(undefined);
    return this.#waiters.promise;
  }

  resumedStdin(handle: ExecHandle): StdinCount | undefined {
    return this.#resumedStdin.get(handle);
  }

  /** Sends a signal to the command now, or once reconnected when the connection is down. */
  signal(name: SignalName): void {
    if (this.#handle?.signal(name)) return;
    if (!this.#over) this.#pendingSignals.push(name);
  }

  /** Resizes the command's terminal now, or once reconnected when the connection is down. */
  resize(size: TerminalSize): void {
    if (!this.#handle?.resize(size)) this.#resizedAway = true;
  }

  /** Nobody waits for the outcome any more (local output closed): a reconnect under way stops. */
  abandon(): void {
    this.#abandoned = true;
  }

  async #follow(first: ExecHandle): Promise<ExecOutcome> {
    let handle = first;
    for (;;) {
      const copied = this.#copy(handle);
      let exit: ExecExit;
      try {
        exit = await handle.exited;
      } catch (error) {
        const next = isDropped(error) && !this.#abandoned ? await this.#reattach(handle, error) : this.#failed(handle, error);
        if ("kind" in next) {
          await copied;
          return next;
        }
        handle = next;
        continue;
      }
      await copied;
      return { kind: "exit", exit };
    }
  }

  /** The outcome of a handle that failed for good. */
  #failed(handle: ExecHandle, error: unknown): ExecOutcome {
    // An attach after a reconnect finds the exec gone (a server that let its record go meanwhile).
    if (handle !== this.#handles[0] && error instanceof BunkerError && error.code === "unknown_exec") {
      return lostExec(this.#session.id, handle.id);
    }
    return { kind: "error", error };
  }

  /** Back in the session after a drop, a new handle on the exec; or why not. */
  async #reattach(old: ExecHandle, error: BunkerError): Promise<ExecHandle | ExecOutcome> {
    this.#handle = undefined;
    const session = this.#session.id;
    const where = `exec ${quote(old.id)} may still be running in session ${quote(session)} on the server`;
    const closed = error.closeCode === undefined ? "" : ` (${error.closeCode})`;
    const timeoutMs = this.#options.reconnectTimeoutMs;
    if (timeoutMs === 0) return { kind: "lost", message: `the connection was lost${closed}, and --reconnect-timeout-ms 0 says not to reconnect: ${where}` };
    this.#options.notice(`the connection was lost${closed}; reconnecting to session ${quote(session)} to follow exec ${quote(old.id)}...`);

    const result = await reconnectSession({
      url: this.#options.url,
      token: this.#options.token,
      // The old socket is cut before the server counts the stdin it took in: a stalled relay could
      // otherwise deliver bytes through it after they were sent again on the new one.
      resume: { ...this.#session.resume, ...(this.#session.connection !== undefined && { replaces: this.#session.connection }) },
      timeoutMs,
      abandoned: () => this.#abandoned,
      endIfAbandoned: !this.#options.sessionNamed,
    });
    switch (result.kind) {
      case "resumed":
        break;
      case "abandoned":
        return { kind: "error", error };
      case "gone":
        return { kind: "lost", message: `the connection was lost, and session ${quote(session)} is gone from the server (${result.error.code}), exec ${quote(old.id)} with it: its outcome is unknown` };
      case "refused":
        return { kind: "lost", message: `could not reconnect: ${failureText(result.error, this.#options)}; ${where}` };
      case "timed_out":
        return { kind: "lost", message: `could not reconnect within ${seconds(timeoutMs)} (${failureText(result.error, this.#options)}); ${where}` };
      default: {
        const unreachable: never = result;
        return unreachable;
      }
    }

    this.#session = result.session;
    const known = result.session.hello.execs.find((info) => info.id === old.id);
    let handle: ExecHandle;
    let stdin: StdinCount | undefined;
    if (known) {
      // From what arrived, not what was acknowledged: the old handle's buffer still holds (and is
      // writing out) everything up to its offsets, and the server keeps everything past the last ack.
      handle = result.session.attach(old.id, { stdout: old.stdout.offset, stderr: old.stderr.offset }, { ackWindowBytes: this.#options.execOptions.ackWindowBytes });
      stdin = known.stdin;
    } else if (!this.#started) {
      // The exec may never have reached the server. Sent again with its id, it runs once: a server
      // that has it answers with its state, and the library attaches.
      handle = result.session.exec(this.#options.command, { ...this.#options.execOptions, id: old.id });
      // Nothing of its stdin went anywhere: the library writes only once an exec has started.
      stdin = { received: 0, ended: false };
    } else {
      return lostExec(session, old.id);
    }
    this.#options.notice("reconnected; the output goes on from where it stopped");
    if (stdin) this.#resumedStdin.set(handle, stdin);
    this.#adopt(handle);
    return handle;
  }

  #adopt(handle: ExecHandle): void {
    this.#handle = handle;
    this.#handles.push(handle);
    handle.started.then(
      () => {
        this.#started = true;
      },
      () => {},
    );
    for (const name of this.#pendingSignals.splice(0)) handle.signal(name);
    if (this.#resizedAway && this.#options.terminalSize) handle.resize(this.#options.terminalSize());
    this.#resizedAway = false;
    const waiters = this.#waiters;
    this.#waiters = Promise.withResolvers();
    waiters.resolve(handle);
  }

  /** Copies the handle's streams after the previous handle's; resolves once both are written out. */
  #copy(handle: ExecHandle): Promise<void> {
    const attached = this.#handles.length > 1;
    const copyStream = (stream: OutputStream, out: NodeJS.WriteStream, previous: Promise<void>) =>
      previous.then(async () => {
        // A failed handle's stream ends by throwing, after its last byte: the outcome says why.
        await copyTo(stream, out).catch(() => {});
        if (attached) for (const gap of stream.gaps) this.#options.notice(`${stream.name} bytes ${gap.from} to ${gap.to} were lost: the server no longer held them`);
      });
    this.#copied = { stdout: copyStream(handle.stdout, this.#options.stdout, this.#copied.stdout), stderr: copyStream(handle.stderr, this.#options.stderr, this.#copied.stderr) };
    return Promise.all([this.#copied.stdout, this.#copied.stderr]).then(() => {});
  }
}

/** A connection that dropped: any close but a server shutting down (1001) or the session ending. */
function isDropped(error: unknown): error is BunkerError {
  return error instanceof BunkerError && error.code === "connection_closed" && error.closeCode !== CLOSE_CODES.goingAway;
}

/** Writes a stream out as it arrives, reading no faster than the local side takes it. */
async function copyTo(stream: OutputStream, out: NodeJS.WriteStream): Promise<void> {
  for await (const chunk of stream) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", resolve));
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Back in the session, but the session no longer has the exec (a server that let its record go). */
function lostExec(session: string, exec: string): ExecOutcome {
  return { kind: "lost", message: `reconnected, but session ${quote(session)} no longer has exec ${quote(exec)}: its outcome is unknown` };
}
