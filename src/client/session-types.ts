import type { ExecInfo, HelloMessage, OutputEncoding, SandboxInfo } from "../protocol/index.ts";
import type { BunkerError } from "./errors.ts";
import type { ExecHandle } from "./exec-handle-types.ts";
import type { ExecCommand, ExecOptions } from "./exec-options.ts";
import type { SessionFiles } from "./files.ts";
import type { RunOptions, RunResult } from "./run-command.ts";

/** How the socket of a session closed. */
export interface SessionClosed {
  code: number;
  reason: string;
  /** Set when the client closed it because the server broke the protocol. */
  violation?: string;
  /** With `reconnect`: set when the session gave up reconnecting (`reconnect_failed`, with its `cause`). */
  reconnectError?: BunkerError;
}

/** Options of `session.attach`. */
export interface AttachOptions {
  encoding?: OutputEncoding;
  ackWindowBytes?: number;
}

/**
 * A connected session: its workspace, its execs, and the socket they report on. It follows the
 * execs it starts and those it attaches to; for an exec another socket of the session starts, it
 * sends `detach` at `started` (call `attach` to follow one).
 */
export interface Session extends AsyncDisposable {
  readonly id: string;
  /** The session's name, for a named session. */
  readonly name: string | undefined;
  /** True when this connection resumed an existing session. */
  readonly resumed: boolean;
  /** Which server instance holds the session. */
  readonly host: string;
  /** The workspace's absolute path, as commands see it. */
  readonly workspace: string;
  readonly sandbox: SandboxInfo;
  /** The whole `hello` message. */
  readonly hello: HelloMessage;
  /** What `connect(url, { resume })` needs to reconnect to this session. A secret: do not log it. */
  readonly resume: { session: string; secret: string };
  /**
   * What `connect(url, { view })` needs to join this session as a viewer (read-only, no token).
   * Undefined on a viewer's own session object. A secret: give it only to whom may see the output.
   */
  readonly view: { session: string; secret: string } | undefined;
  /** True on a session object joined with `view`: the server refuses all but attach, detach, ack, list and ping. */
  readonly viewer: boolean;
  /**
   * This socket's id within the session, for `connect(url, { resume: { ...resume, replaces } })`:
   * the server cuts this socket before it greets the new one. Undefined from an older server.
   */
  readonly connection: string | undefined;
  /**
   * Resolves when the socket has closed, or when the keepalive gave it up for dead (code 1006). With
   * `reconnect`, only once the session object is over: closed, disconnected, or given up on.
   */
  readonly closed: Promise<SessionClosed>;
  /** With `reconnect`: true from a drop until the session is back on a new socket (or given up on). */
  readonly reconnecting: boolean;
  /** The workspace's files: stat, list, read, write, mkdir, move, remove, upload, download, watch. */
  readonly files: SessionFiles;
  /** Runs a command: an argv array, or a shell line. Throws a TypeError on bad options (and on an id that starts with `file:`). */
  exec(command: ExecCommand, options?: ExecOptions): ExecHandle;
  /**
   * Runs a command to its end: its exit facts with its whole stdout and stderr as text
   * (`{ code, signal, reason, durationMs, stdout, stderr }`). `input` is written to its stdin.
   * Rejects only when the server refuses the exec; a failing command is a result.
   */
  run(command: ExecCommand, options?: RunOptions): Promise<RunResult>;
  /**
   * Follows an exec of this session from the given offsets (default 0): buffered output is replayed,
   * then live. Throws a TypeError on bad options, and on an id that starts with `file:`.
   */
  attach(id: string, offsets?: { stdout?: number; stderr?: number }, options?: AttachOptions): ExecHandle;
  /** The session's execs, running and finished. */
  list(): Promise<ExecInfo[]>;
  /**
   * Revokes the view secret: every viewer joined with it is cut, and `view` holds a new one from
   * now on (also on the session's other full sockets). Resolves with the new `view` and how many
   * viewers were cut. A viewer may not: the server refuses it (`forbidden_by_policy`).
   */
  revokeViewers(): Promise<{ view: { session: string; secret: string }; viewersCut: number }>;
  /** Ends the session: the server kills its execs and lets its workspace go; then the socket closes. */
  close(): Promise<void>;
  /** Closes only the socket; a server that keeps sessions keeps this one for `resume`. */
  disconnect(): Promise<void>;
}
