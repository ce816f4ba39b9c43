import type { ClientMessage, ExecInfo, ExecMessage, ExitFactsMessage, OutputEncoding, SignalName, TerminalSize } from "../protocol/index.ts";
import type { BunkerError } from "./errors.ts";
import type { OutputStream } from "./output-stream.ts";

/** What the server said when the exec's process came to exist. `pid` is null when it is not known (an attach). */
export interface ExecStarted {
  pid: number | null;
  /** The terminal size, for PTY execs. */
  pty?: TerminalSize;
  /** The persistent shell the command runs in. */
  shell?: string;
}

/** How an exec ended: `code`, `signal`, `reason`, `durationMs` (and `cwd` for persistent shells). */
export type ExecExit = ExitFactsMessage;

/** A running (or finished) exec, as `session.exec` and `session.attach` return it. */
export interface ExecHandle {
  readonly id: string;
  readonly stdout: OutputStream;
  /** Empty for PTY execs: a terminal has one output stream. */
  readonly stderr: OutputStream;
  /** Resolves once the process exists; rejects when the server refused the exec (`spawn_failed`, `not_found`...). */
  readonly started: Promise<ExecStarted>;
  /** Resolves with the exit facts. A non-zero code, a timeout or a signal is an exit, not a rejection. */
  readonly exited: Promise<ExecExit>;
  /** `error` messages the server sent for this exec after it started (`spawn_failed` before an exit 127). */
  readonly errors: readonly BunkerError[];
  /** Writes to stdin (exec option `stdin: true`, or a PTY). Resolves once handed to the socket. */
  write(data: string | Uint8Array): Promise<void>;
  /** Closes stdin, after writing `data` if given. */
  end(data?: string | Uint8Array): Promise<void>;
  /**
   * Sends a signal to the exec's whole process tree. False when nothing is sent: the exec has
   * already exited, the handle no longer follows it, the session is closed, or it is a viewer's.
   */
  signal(name: SignalName): boolean;
  /** Changes a PTY exec's window size. False when nothing is sent, as for `signal`. */
  resize(size: TerminalSize): boolean;
  /**
   * A PTY exec's terminal size as the server last said it: at its start (`started.pty`, or
   * `size` in an attach's ExecInfo), then after each resize by this or another socket (`resized`).
   * Undefined for an exec without a terminal, or before the server has said.
   */
  readonly size: TerminalSize | undefined;
  /** Stops this connection receiving the exec's output; the exec goes on, and `session.attach` picks it up again. */
  detach(): void;
}

/** What a handle needs from its session. */
export interface ExecTransport {
  /** Sends a message; false when the connection is not open. */
  send(message: ClientMessage): boolean;
  /** Sends a `stdin` message with `bytes` (none: only the end of file); false when the connection is not open. */
  sendStdin(id: string, bytes: Uint8Array, eof: boolean): boolean;
  /**
   * Adds `bytes` (and end of file) to a `stdin` message of the same exec that still waits last in
   * the send queue (see QueuedStdin); false when there is none they fit in, and they need a message.
   */
  joinQueuedStdin(id: string, bytes: Uint8Array, eof: boolean): boolean;
  /** Resolves once the messages queued before the call have gone out and the socket has little enough queued to take more. */
  drained(): Promise<void>;
  /** Raw bytes one `stdin` message may carry under the server's frame limit (see message-bytes.ts). */
  readonly messageBytes: number;
  /** The session reconnects by itself after a drop: a send that fails waits for it rather than failing. */
  readonly mayReconnect: boolean;
  /** The session is a viewer's: the server refuses every message that acts on an exec. */
  readonly viewer: boolean;
}

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
