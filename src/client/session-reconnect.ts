import type { ClientMessage, HelloMessage } from "../protocol/index.ts";
import { createDeferred } from "./deferred.ts";
import { BunkerError } from "./errors.ts";
import type { OpenedSocket } from "./open-socket.ts";
import type { ResolvedReconnect } from "./reconnect-options.ts";
import { describeResumeRefusal } from "./resume-failure.ts";
import { retryResume, type ResumeResult } from "./resume-loop.ts";
import type { SendLine } from "./send-pacer.ts";

/**
 * Messages made while reconnecting that go out once the session is back, in order: they were never
 * sent, so sending them then does them once (`view.revoke` too, which had failed at once with
 * connection_closed: found by a review of revocation). The rest is not held: an exec or attach is
 * sent by its handle when the session is back (a new exec, or one resent with its id, which the
 * server runs once); stdin waits in its handle, which sends from the server's count on; acks,
 * detaches and pings mean nothing to a socket that follows no exec yet.
 */
function isHeld(message: ClientMessage): boolean {
  return message.type === "signal" || message.type === "resize" || message.type === "list" || message.type === "view.revoke" || message.type.startsWith("file.");
}

/** One outage of a session that reconnects by itself: the attempts, the events, and what waits for the new socket. */
export class SessionReconnect {
  readonly held: { message: string; line: SendLine }[] = [];
  readonly #startedMs = Date.now();
  #attempts = 0;
  readonly #abandoned = createDeferred<void>();

  /** `cause`: the drop (`connection_closed`, with its close code). */
  constructor(
    readonly cause: BunkerError,
    private readonly options: ResolvedReconnect,
  ) {}

  /** Holds a message for the new socket; false for one that is not held (see isHeld). */
  hold(message: ClientMessage, line: SendLine): boolean {
    if (!isHeld(message)) return false;
    this.held.push({ message: JSON.stringify(message), line });
    return true;
  }

  /** Makes the attempts (see retryResume); `attempt` opens a socket resuming the session. */
  async run(attempt: (connectTimeoutMs: number) => Promise<OpenedSocket>, abandoned: () => boolean): Promise<ResumeResult> {
    const result = await retryResume({
      timeoutMs: this.options.timeoutMs,
      cause: this.cause,
      attempt,
      abandoned,
      whenAbandoned: this.#abandoned.promise,
      onReconnecting: (event) => callBack(this.options.onReconnecting, event),
    });
    if (result.kind === "resumed") this.#attempts = result.attempts;
    return result;
  }

  /** Nobody wants the session back any more (`disconnect()`, or the session object is over): a wait under way ends. */
  abandon(): void {
    this.#abandoned.resolve();
  }

  /** The session is back and its execs followed again. */
  done(hello: HelloMessage): void {
    callBack(this.options.onReconnected, { attempts: this.#attempts, outageMs: Date.now() - this.#startedMs, cause: this.cause, hello });
  }
}

/**
 * Why the session gave up: `reconnect_failed`, whose `cause` is the server's `unknown_session` (the
 * session ended, or the server restarted), the refused handshake (401, 403), or the last attempt's
 * failure (out of time).
 */
export function reconnectFailure(result: Exclude<ResumeResult, { kind: "resumed" | "abandoned" }>, session: string, timeoutMs: number, closeCode: number): BunkerError {
  const cause = result.error;
  const lost = `the connection closed (${closeCode}) and session ${JSON.stringify(session)} could not be resumed`;
  const mayRun = "; its commands may still run on the server";
  let message: string;
  switch (result.kind) {
    case "gone":
      message = `${lost}: the server no longer has it (${result.error.code}: it ended, or the server restarted)`;
      break;
    case "refused":
      message = `${lost}: ${describeResumeRefusal(result.error)}${mayRun}`;
      break;
    case "timed_out":
      message = `${lost} within ${timeoutMs} ms (reconnect.timeoutMs)${cause ? `: ${cause.message}` : ""}${mayRun}`;
      break;
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
  return new BunkerError("reconnect_failed", message, { closeCode, ...(cause && { cause }) });
}

/** Calls a user's callback; one that throws is reported as a listener's error is, and the reconnect goes on. */
function callBack<T>(callback: ((event: T) => void) | undefined, event: T): void {
  try {
    callback?.(event);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
