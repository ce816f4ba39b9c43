import * as v from "valibot";
import { ERROR_CODES, type ErrorCode } from "./errors.ts";
import { ExecIdSchema, TERMINAL_SIZE_ENTRIES, TerminalSizeSchema } from "./client-messages.ts";
import { ByteCountSchema, FILE_REPLY_SCHEMAS } from "./file-messages.ts";

export const SANDBOX_BACKENDS = ["bwrap", "seatbelt", "none"] as const;
export const SandboxBackendNameSchema = v.picklist(SANDBOX_BACKENDS);
export type SandboxBackendName = v.InferOutput<typeof SandboxBackendNameSchema>;

/** What the session's commands run inside. `reason` says why when the backend is `none`. */
export const SandboxInfoSchema = v.object({
  backend: SandboxBackendNameSchema,
  reason: v.optional(v.string()),
  /** What the backend does not enforce, in words; present for `none`. */
  notEnforced: v.optional(v.array(v.string())),
  network: v.optional(v.boolean()),
  /** The effective policy, as far as the backend enforces it (see docs/SECURITY.md). */
  policy: v.optional(
    v.object({
      /** uid and gid the commands run as on the host, when the server switches to them. */
      runAs: v.optional(v.object({ uid: v.number(), gid: v.number() })),
      seccomp: v.boolean(),
      /** Host paths readable besides the system directories, and extra writable ones. */
      allowRead: v.array(v.string()),
      allowWrite: v.array(v.string()),
      /**
       * Host paths commands cannot read though a directory they see holds them (the server's secrets
       * among them). Always sent; optional so that clients still take the hello of an older server.
       */
      denyRead: v.optional(v.array(v.string())),
      /** Paths inside the workspace that commands see read-only. */
      protect: v.array(v.string()),
      /** Resource limits per exec (a request may lower them). */
      rlimits: v.record(v.string(), v.number()),
      tmpSizeBytes: v.optional(v.number()),
    }),
  ),
});
export type SandboxInfo = v.InferOutput<typeof SandboxInfoSchema>;

export const OutputStreamSchema = v.picklist(["stdout", "stderr"]);
export type OutputStream = v.InferOutput<typeof OutputStreamSchema>;

export const EXIT_REASONS = ["exited", "signaled", "timeout", "killed", "output_limit"] as const;
export const ExitReasonSchema = v.picklist(EXIT_REASONS);
export type ExitReason = v.InferOutput<typeof ExitReasonSchema>;

/** How an exec ended: the fields of `exit` without `type` and `id`. */
export const ExitFactsSchema = v.object({
  code: v.nullable(v.number()),
  signal: v.nullable(v.string()),
  reason: ExitReasonSchema,
  durationMs: v.number(),
  /** Persistent-shell execs: the shell's working directory after the command. */
  cwd: v.optional(v.string()),
});
export type ExitFactsMessage = v.InferOutput<typeof ExitFactsSchema>;

/** One exec of a session, as `hello` (on resume), `list` and a resent `exec` report it. */
export const ExecInfoSchema = v.object({
  id: ExecIdSchema,
  argv: v.optional(v.array(v.string())),
  cmd: v.optional(v.string()),
  /** `hello` carries a command's first HELLO_COMMAND_BYTES only: set when `argv` or `cmd` was cut there. */
  commandTruncated: v.optional(v.literal(true)),
  shell: v.optional(v.string()),
  pty: v.boolean(),
  /** A PTY exec's terminal size now (after every `resize`), so that another socket can draw it alike. */
  size: v.optional(TerminalSizeSchema),
  state: v.picklist(["running", "exited"]),
  /** A running exec that a client's SIGSTOP holds, no SIGCONT since (as `docker ps` says "Paused"). */
  paused: v.optional(v.literal(true)),
  pid: v.nullable(v.number()),
  /** Milliseconds since the Unix epoch. */
  startedAt: v.number(),
  exit: v.optional(ExitFactsSchema),
  /** Bytes produced so far per stream (the offsets at which live output continues). */
  bytes: v.object({ stdout: v.number(), stderr: v.number() }),
  /**
   * For an exec that takes stdin (`stdin: true`, or a PTY): the stdin bytes the server took in from
   * every socket, and whether `eof` came. A client resuming after a drop resends what it wrote past
   * `received`: bytes in flight on the dead socket never arrived.
   */
  stdin: v.optional(v.object({ received: ByteCountSchema, ended: v.boolean() })),
});
export type ExecInfo = v.InferOutput<typeof ExecInfoSchema>;

/** First message of every connection. */
export const HelloMessageSchema = v.object({
  type: v.literal("hello"),
  protocol: v.number(),
  version: v.string(),
  session: v.string(),
  /** Present for a named session. */
  name: v.optional(v.string()),
  /**
   * Presented with the session id to resume this session after a drop. Never logged. Absent for a
   * viewer, which holds only the view secret.
   */
  resumeSecret: v.optional(v.string()),
  /**
   * Presented with the session id (subprotocol `bunker.view.<secret>`), it joins this session as a
   * viewer: output and exec states only, without the server's token. Never logged; absent for a viewer.
   */
  viewSecret: v.optional(v.string()),
  /** `"viewer"` on a viewer's socket (see viewSecret); absent on a full one. */
  role: v.optional(v.literal("viewer")),
  /** This socket's id within the session: a resume that `replaces` it cuts it first. */
  connection: v.optional(v.string()),
  resumed: v.boolean(),
  /** The session's execs: empty for a new session. */
  execs: v.array(ExecInfoSchema),
  /** Which server instance holds the session (`--host-id`, default the hostname). */
  host: v.string(),
  workspace: v.string(),
  sandbox: SandboxInfoSchema,
  /** The largest frame the server takes (`--max-frame-bytes`): clients size stdin and file messages to fit. */
  maxFrameBytes: v.optional(v.number()),
  /** Messages a second the server takes from this socket (`--max-messages-per-second`, twice that at once): clients pace to it. */
  maxMessagesPerSecond: v.optional(v.number()),
  /** How long the session's commands run on when this socket is the last to leave: `--detach-ttl`, or less if it asked (`?detachTtlMs=`). */
  detachTtlMs: v.optional(v.number()),
});
export type HelloMessage = v.InferOutput<typeof HelloMessageSchema>;

/** The exec's process exists. `pid` is the host pid of the process bunker spawned. */
export const StartedMessageSchema = v.object({
  type: v.literal("started"),
  id: ExecIdSchema,
  pid: v.number(),
  /** Present for PTY execs. */
  pty: v.optional(TerminalSizeSchema),
  shell: v.optional(v.string()),
});
export type StartedMessage = v.InferOutput<typeof StartedMessageSchema>;

/** A chunk of output. `offset` counts the raw bytes of this stream sent before the chunk. */
export const OutputMessageSchema = v.object({
  type: v.literal("output"),
  id: ExecIdSchema,
  stream: OutputStreamSchema,
  offset: v.number(),
  data: v.string(),
  /**
   * utf8 only, and only when `data` is not the exact UTF-8 of the raw bytes (invalid sequences
   * became U+FFFD): how many raw bytes the message covers, so that offsets stay exact.
   */
  bytes: v.optional(v.number()),
});
export type OutputMessage = v.InferOutput<typeof OutputMessageSchema>;

/** Bytes `from` (inclusive) to `to` (exclusive) of a stream are no longer buffered; data continues at `to`. */
export const GapMessageSchema = v.object({
  type: v.literal("gap"),
  id: ExecIdSchema,
  stream: OutputStreamSchema,
  from: v.number(),
  to: v.number(),
});
export type GapMessage = v.InferOutput<typeof GapMessageSchema>;

/** The exec is over; always after its last output. */
export const ExitMessageSchema = v.object({
  type: v.literal("exit"),
  id: ExecIdSchema,
  ...ExitFactsSchema.entries,
});
export type ExitMessage = v.InferOutput<typeof ExitMessageSchema>;

const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** The server could not do what a message asked. `id` echoes the exec id when the message had one. */
export const ErrorMessageSchema = v.object({
  type: v.literal("error"),
  id: v.optional(v.string()),
  code: v.picklist(ERROR_CODE_NAMES),
  message: v.string(),
});
export type ErrorMessage = v.InferOutput<typeof ErrorMessageSchema>;

/** Reply to an `exec` whose id the session already has with the same request: nothing is run again. */
export const StateMessageSchema = v.object({
  type: v.literal("state"),
  id: ExecIdSchema,
  exec: ExecInfoSchema,
});
export type StateMessage = v.InferOutput<typeof StateMessageSchema>;

/** Reply to `list`. */
export const ExecsMessageSchema = v.object({
  type: v.literal("execs"),
  id: v.optional(v.string()),
  execs: v.array(ExecInfoSchema),
});
export type ExecsMessage = v.InferOutput<typeof ExecsMessageSchema>;

/** Reply to `ping`, at once; `id` echoed. */
export const PongMessageSchema = v.object({
  type: v.literal("pong"),
  id: v.optional(v.string()),
});
export type PongMessage = v.InferOutput<typeof PongMessageSchema>;

/**
 * The session's view secret was revoked (`view.revoke`): every viewer joined with the old one was
 * cut, and `viewSecret` joins from now on. Sent to every full socket of the session; `id` only to
 * the one that asked.
 */
export const ViewRevokedMessageSchema = v.object({
  type: v.literal("view.revoked"),
  id: v.optional(v.string()),
  viewSecret: v.string(),
  /** How many viewers were cut. */
  viewersCut: v.number(),
});
export type ViewRevokedMessage = v.InferOutput<typeof ViewRevokedMessageSchema>;

/** The session has ended (after `close`); the server closes the socket with 4000 next. */
export const ClosedMessageSchema = v.object({
  type: v.literal("closed"),
  session: v.string(),
});
export type ClosedMessage = v.InferOutput<typeof ClosedMessageSchema>;

/**
 * How much of an exec's stdin the command's pipe (or terminal) has taken, counted from the start.
 * A socket that wrote stdin without asking for credit gets it every STDIN_ACK_STEP_BYTES, and keeps
 * what it sent beyond this offset under MAX_PENDING_STDIN_BYTES. A socket that asked for credit
 * (`stdin` with `credit: true`) gets `limit` instead, and keeps to it.
 */
export const StdinAckMessageSchema = v.object({
  type: v.literal("stdin.ack"),
  id: ExecIdSchema,
  offset: v.number(),
  /**
   * Credit: how many bytes of this exec's stdin this socket may have sent in all (its own, counted
   * from its first). Set afresh by the answer to `credit: true`, and only raised after it.
   */
  limit: v.optional(ByteCountSchema),
  /** Only in the answer to `credit: true`: this socket's bytes the server took in, the count `limit` is in. */
  received: v.optional(ByteCountSchema),
  /** Another writer waits for room this socket holds: send `credit: true` once idle or out of credit. */
  contended: v.optional(v.boolean()),
});
export type StdinAckMessage = v.InferOutput<typeof StdinAckMessageSchema>;

/**
 * A PTY exec's terminal took a new size (a `resize` from a socket of the session): sent to the
 * other sockets that follow the exec, so that a viewer draws the program at its real size.
 */
export const ResizedMessageSchema = v.object({
  type: v.literal("resized"),
  id: ExecIdSchema,
  cols: TERMINAL_SIZE_ENTRIES.cols,
  rows: TERMINAL_SIZE_ENTRIES.rows,
});
export type ResizedMessage = v.InferOutput<typeof ResizedMessageSchema>;

/** Every message the server sends, discriminated by `type`. */
export const ServerMessageSchema = v.variant("type", [
  HelloMessageSchema,
  StartedMessageSchema,
  OutputMessageSchema,
  GapMessageSchema,
  ExitMessageSchema,
  StateMessageSchema,
  ExecsMessageSchema,
  PongMessageSchema,
  ClosedMessageSchema,
  ViewRevokedMessageSchema,
  ErrorMessageSchema,
  StdinAckMessageSchema,
  ResizedMessageSchema,
  ...FILE_REPLY_SCHEMAS,
]);
export type ServerMessage = v.InferOutput<typeof ServerMessageSchema>;
