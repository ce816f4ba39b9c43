import * as v from "valibot";
import { AckWindowSchema, ByteCountSchema, FILE_REQUEST_SCHEMAS, FILE_REQUEST_TYPES } from "./file-messages.ts";
import { MAX_TIMEOUT_MS } from "./limits.ts";
import { isPlainObject, plainObject } from "./plain-object.ts";

/**
 * Strings that reach execve or the environment cannot hold NUL, nor a lone surrogate, which UTF-8
 * has no bytes for: the command would get U+FFFD in its place, a name it was never given.
 */
const NoNulStringSchema = v.pipe(
  v.string(),
  v.regex(/^[^\0]*$/, "must not contain NUL"),
  v.check((text) => text.isWellFormed(), "must be well-formed Unicode (no lone surrogate)"),
);

/** An exec id: chosen by the client, unique among the session's execs. */
export const ExecIdSchema = v.pipe(v.string(), v.minLength(1, "must be 1 to 64 characters"), v.maxLength(64, "must be 1 to 64 characters"));

/**
 * The id a new exec takes. A lone surrogate survives JSON but not UTF-8: the exec's binary frames
 * would carry U+FFFD in their header instead, and no client could match them. Ids that only refer
 * to something (list, file requests, stdin to an exec) are echoed in JSON, where any string is fine.
 */
const NewExecIdSchema = v.pipe(ExecIdSchema, v.check((id) => id.isWellFormed(), "must be well-formed Unicode (no lone surrogate)"));

/** Signals a client may send to an exec's process tree. */
export const SIGNAL_NAMES = ["SIGINT", "SIGTERM", "SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGSTOP", "SIGCONT"] as const;
export const SignalNameSchema = v.picklist(SIGNAL_NAMES, `must be one of ${SIGNAL_NAMES.join(", ")}`);
export type SignalName = v.InferOutput<typeof SignalNameSchema>;

/** Whether a signal only pauses or resumes the tree (SIGSTOP, SIGCONT): it ends nothing. */
export function isPauseSignal(name: SignalName): boolean {
  return name === "SIGSTOP" || name === "SIGCONT";
}

/** How output bytes travel: JSON with UTF-8 text, JSON with base64, or binary frames (see binary-frames.ts). */
export const OutputEncodingSchema = v.picklist(["utf8", "base64", "binary"], 'must be "utf8", "base64" or "binary"');
export type OutputEncoding = v.InferOutput<typeof OutputEncodingSchema>;

/** How stdin bytes travel inside a JSON message. */
export const InputEncodingSchema = v.picklist(["utf8", "base64"], 'must be "utf8" or "base64"');

const PositiveIntegerSchema = v.pipe(v.number(), v.safeInteger("must be an integer"), v.minValue(1, "must be >= 1"));

/** A terminal size in character cells. */
export const TERMINAL_SIZE_ENTRIES = {
  cols: v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be >= 1"), v.maxValue(1000, "must be <= 1000")),
  rows: v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be >= 1"), v.maxValue(1000, "must be <= 1000")),
};
export const TerminalSizeSchema = plainObject(TERMINAL_SIZE_ENTRIES, "must be an object of cols and rows");
export type TerminalSize = v.InferOutput<typeof TerminalSizeSchema>;

/**
 * Resource limits for one exec. Each may only lower the server's own limit; a higher value is
 * refused with `forbidden_by_policy`.
 */
export const ExecRlimitsSchema = plainObject(
  {
    cpuSeconds: v.optional(PositiveIntegerSchema),
    addressSpaceBytes: v.optional(PositiveIntegerSchema),
    fileSizeBytes: v.optional(PositiveIntegerSchema),
    openFiles: v.optional(PositiveIntegerSchema),
    processes: v.optional(PositiveIntegerSchema),
  },
  "must be an object of limit names and numbers",
);
export type ExecRlimits = v.InferOutput<typeof ExecRlimitsSchema>;

/** A shell name: persistent shells are addressed by it within their session. */
export const ShellNameSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1 to 64 of A-Z a-z 0-9 . _ -"));

const MAX_ARGV_ITEMS = 4096;
const MAX_ENV_ENTRIES = 1024;

/** Names that valibot's record (like any careful copy) skips silently: refused rather than dropped. */
const RESERVED_ENV_NAMES = new Set(["__proto__", "constructor", "prototype"]);

/**
 * The counts of env and argv are checked before their entries: a pipe skips its later schemas once
 * an action has failed, so an oversized list costs one count, not a regex per entry (a 70,000-entry
 * env took 70 ms of the event loop to refuse, on top of its JSON.parse).
 */
const EnvSchema = v.pipe(
  // An array would pass for a record of "0", "1", ... entries.
  v.custom<Record<string, unknown>>(isPlainObject, "must be an object of name: value strings"),
  v.check((env) => Object.keys(env).length <= MAX_ENV_ENTRIES, `must have at most ${MAX_ENV_ENTRIES} entries`),
  v.check((env) => !Object.keys(env).some((name) => RESERVED_ENV_NAMES.has(name)), "names __proto__, constructor and prototype cannot be set"),
  v.record(
    v.pipe(
      v.string(),
      v.regex(/^[^=\0]+$/, "names must be non-empty and hold neither '=' nor NUL"),
      v.check((name) => name.isWellFormed(), "names must be well-formed Unicode (no lone surrogate)"),
    ),
    v.pipe(
      v.string("values must be strings"),
      v.regex(/^[^\0]*$/, "values must not contain NUL"),
      v.check((value) => value.isWellFormed(), "values must be well-formed Unicode (no lone surrogate)"),
    ),
  ),
);

const ArgvSchema = v.pipe(
  v.array(v.unknown()),
  v.minLength(1, "must hold at least the program"),
  v.maxLength(MAX_ARGV_ITEMS, `must have at most ${MAX_ARGV_ITEMS} items`),
  v.array(NoNulStringSchema),
);

/** Ask the server to run a command. Exactly one of `argv` and `cmd`. */
export const ExecMessageSchema = v.pipe(
  v.object({
    type: v.literal("exec"),
    id: NewExecIdSchema,
    argv: v.optional(ArgvSchema),
    cmd: v.optional(v.pipe(NoNulStringSchema, v.minLength(1, "must not be empty"))),
    cwd: v.optional(v.pipe(NoNulStringSchema, v.maxLength(4096, "must be at most 4096 characters"))),
    env: v.optional(EnvSchema),
    stdin: v.optional(v.boolean()),
    timeoutMs: v.optional(
      v.pipe(v.number(), v.integer("must be an integer"), v.minValue(0, "must be >= 0"), v.maxValue(MAX_TIMEOUT_MS, `must be <= ${MAX_TIMEOUT_MS}`)),
    ),
    maxOutputBytes: v.optional(
      v.pipe(v.number(), v.safeInteger("must be an integer"), v.minValue(1, "must be >= 1")),
    ),
    encoding: v.optional(OutputEncodingSchema),
    /** Run on a pseudo-terminal of this size: one output stream (stdout), raw bytes, `resize` works. */
    pty: v.optional(TerminalSizeSchema),
    /** `false` drops the network for this command. `true` only restates the server's policy. */
    network: v.optional(v.boolean()),
    /** `true`: the command may write nothing on the host (the workspace included); only its private /tmp. */
    readOnly: v.optional(v.boolean()),
    rlimits: v.optional(ExecRlimitsSchema),
    /** Run `cmd` in this session's persistent shell of that name (created on first use). */
    shell: v.optional(ShellNameSchema),
    /** Flow control by acknowledgement: at most this many bytes per stream sent and not yet acked. */
    ackWindowBytes: v.optional(AckWindowSchema),
  }),
  v.check((m) => (m.argv === undefined) !== (m.cmd === undefined), "exec needs exactly one of argv and cmd"),
  v.check((m) => m.shell === undefined || m.cmd !== undefined, "shell: a shell runs `cmd`, not `argv`"),
  v.check((m) => m.shell === undefined || m.pty === undefined, "shell: a persistent shell has no pty of its own"),
);
export type ExecMessage = v.InferOutput<typeof ExecMessageSchema>;

/** Bytes for an exec's stdin, or its end, or a request for stdin credit. */
export const StdinMessageSchema = v.pipe(
  v.object({
    type: v.literal("stdin"),
    id: ExecIdSchema,
    data: v.optional(v.string()),
    encoding: v.optional(InputEncodingSchema),
    eof: v.optional(v.boolean()),
    /**
     * This socket paces its stdin to the exec by credit: after `data`, what it was granted and has
     * not used goes back, and a `stdin.ack` with `received` and a new `limit` answers (see
     * StdinAckMessageSchema). Sent before the socket's first byte, and again when asked (`contended`).
     */
    credit: v.optional(v.boolean()),
  }),
  v.check((m) => m.data !== undefined || m.eof === true || m.credit === true, "stdin needs data, eof: true or credit: true"),
);
export type StdinMessage = v.InferOutput<typeof StdinMessageSchema>;

/** Send a signal to every process of an exec. */
export const SignalMessageSchema = v.object({
  type: v.literal("signal"),
  id: ExecIdSchema,
  signal: SignalNameSchema,
});
export type SignalMessage = v.InferOutput<typeof SignalMessageSchema>;

/** Change a PTY exec's window size; the program gets SIGWINCH. */
export const ResizeMessageSchema = v.object({
  type: v.literal("resize"),
  id: ExecIdSchema,
  cols: TERMINAL_SIZE_ENTRIES.cols,
  rows: TERMINAL_SIZE_ENTRIES.rows,
});
export type ResizeMessage = v.InferOutput<typeof ResizeMessageSchema>;

/** Byte offsets per stream that a client already holds. */
export const StreamOffsetsSchema = plainObject(
  {
    stdout: v.optional(ByteCountSchema),
    stderr: v.optional(ByteCountSchema),
  },
  "must be an object of stdout and stderr offsets",
);

/**
 * Receive an exec's output on this connection from the given offsets (default 0): what is still
 * buffered is replayed, then output continues live. Lost bytes are announced with `gap`.
 */
export const AttachMessageSchema = v.object({
  type: v.literal("attach"),
  id: ExecIdSchema,
  offsets: v.optional(StreamOffsetsSchema),
  encoding: v.optional(OutputEncodingSchema),
  /** Bounded as on exec: the server keeps what this subscription was sent and has not acknowledged. */
  ackWindowBytes: v.optional(AckWindowSchema),
});
export type AttachMessage = v.InferOutput<typeof AttachMessageSchema>;

/** Stop receiving an exec's output on this connection (the exec goes on). */
export const DetachMessageSchema = v.object({
  type: v.literal("detach"),
  id: ExecIdSchema,
});
export type DetachMessage = v.InferOutput<typeof DetachMessageSchema>;

/** The client has consumed a stream up to `offset` (for execs with `ackWindowBytes`). */
export const AckMessageSchema = v.object({
  type: v.literal("ack"),
  id: ExecIdSchema,
  stream: v.optional(v.picklist(["stdout", "stderr"], 'must be "stdout" or "stderr"')),
  offset: ByteCountSchema,
});
export type AckMessage = v.InferOutput<typeof AckMessageSchema>;

/** Ask for the session's execs; answered with `execs`. `id` is echoed. */
export const ListMessageSchema = v.object({
  type: v.literal("list"),
  id: v.optional(ExecIdSchema),
});
export type ListMessage = v.InferOutput<typeof ListMessageSchema>;

/**
 * Is the connection alive? Answered with `pong` at once. WebSocket pings are invisible to a
 * browser's WebSocket (and to most client APIs), so a client that must notice a half-open
 * connection (a NAT or proxy that dropped it without a FIN) asks in the protocol itself.
 */
export const PingMessageSchema = v.object({
  type: v.literal("ping"),
  id: v.optional(ExecIdSchema),
});
export type PingMessage = v.InferOutput<typeof PingMessageSchema>;

/**
 * Revoke the session's view secret: every viewer joined with it is cut (`unknown_session`, 4404),
 * and a new one takes its place, sent to every full socket in `view.revoked`. `id` is echoed to
 * the socket that asked.
 */
export const ViewRevokeMessageSchema = v.object({
  type: v.literal("view.revoke"),
  id: v.optional(ExecIdSchema),
});
export type ViewRevokeMessage = v.InferOutput<typeof ViewRevokeMessageSchema>;

/** End the session now: every tree is killed, retention applies, every socket of it is closed. */
export const CloseMessageSchema = v.object({
  type: v.literal("close"),
});
export type CloseMessage = v.InferOutput<typeof CloseMessageSchema>;

/** Every message a client may send, discriminated by `type`. */
export const ClientMessageSchema = v.variant("type", [
  ExecMessageSchema,
  StdinMessageSchema,
  SignalMessageSchema,
  ResizeMessageSchema,
  AttachMessageSchema,
  DetachMessageSchema,
  AckMessageSchema,
  ListMessageSchema,
  PingMessageSchema,
  ViewRevokeMessageSchema,
  CloseMessageSchema,
  ...FILE_REQUEST_SCHEMAS,
]);
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;

/** The `type` values a client may send. */
export const CLIENT_MESSAGE_TYPES = [
  "exec",
  "stdin",
  "signal",
  "resize",
  "attach",
  "detach",
  "ack",
  "list",
  "ping",
  "view.revoke",
  "close",
  ...FILE_REQUEST_TYPES,
] as const;
