import type { AttachMessage, ExecInfo, ExecMessage } from "../protocol/index.ts";
import type { ExecTransport } from "./exec-handle-types.ts";

/** What ExecResume needs from its exec handle. */
export interface ExecResumeInit {
  id: string;
  transport: ExecTransport;
  /** For a new exec: its message, sent again as it is when the session resumes before `started`. */
  execMessage: ExecMessage | undefined;
  /** An `attach` from the bytes the handle holds, with the window given. */
  attachMessage(ackWindowBytes: number): AttachMessage;
}

/**
 * An exec handle's part in a resume of its session that is not about following the exec: sending
 * a new exec again, and letting go, on the server too, of an exec the handle detached around the
 * outage.
 */
export class ExecResume {
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

  constructor(private readonly init: ExecResumeInit) {}

  /** The server answered the exec (`started`, `state`): it has it, and never needs it again. */
  answered(): void {
    this.#detachedUnstarted = false;
  }

  /** `detach()` was called; `pending`: before `started` came. */
  detached(pending: boolean): void {
    this.#detachUnheard = true;
    this.#detachedUnstarted = pending && this.init.execMessage !== undefined;
  }

  /** Sends a new exec again (a resume before `started`); false for an attached one, which has none. */
  resendExec(): boolean {
    if (!this.init.execMessage) return false;
    this.init.transport.send(this.init.execMessage);
    return true;
  }

  /**
   * After a resume, for a detached handle (`info`: what the resumed `hello` says of the exec). One
   * detached before `started` came, of an exec the server does not have, is sent again, then
   * detached: it runs once, unfollowed. One whose `detach` the server may not have had (see
   * #detachUnheard) sends `attach`, which ends the dropped socket's hold (any socket's attach does),
   * then `detach`, which ends the new socket's subscription; its window of one byte keeps what comes
   * in between to a byte per stream.
   */
  letGo(info: ExecInfo | undefined): void {
    const { id, transport } = this.init;
    const unheard = this.#detachUnheard;
    this.#detachUnheard = false;
    if (info === undefined) {
      if (this.#detachedUnstarted && this.resendExec()) transport.send({ type: "detach", id });
      return;
    }
    // The server has the exec: sending it again could only be answered with its state.
    this.#detachedUnstarted = false;
    // A viewer's positions never hold output; a finished exec's hold paces nothing.
    if (!unheard || transport.viewer || info.state !== "running") return;
    transport.send(this.init.attachMessage(1));
    transport.send({ type: "detach", id });
  }
}
