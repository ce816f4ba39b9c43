import * as v from "valibot";
import { FILE_REQUEST_SCHEMAS, FILE_REQUEST_TYPES } from "./file-messages.ts";

/** Strings that reach execve or the environment cannot hold NUL. */
const NoNulStringSchema = v.pipe(v.string(), v.regex(/^[^\0]*$/, "must not contain NUL"));

/** An exec id: chosen by the client, unique among the session's execs. */
export const ExecIdSchema = v.pipe(v.string(), v.minLength(1, "must be 1 to 64 characters"), v.maxLength(64, "must be 1 to 64 characters"));

/** Signals a client may send to an exec's process tree. */
export const SIGNAL_NAMES = ["SIGINT", "SIGTERM", "SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;
export const SignalNameSchema = v.picklist(SIGNAL_NAMES, `must be one of ${SIGNAL_NAMES.join(", ")}`);
export type SignalName = v.InferOutput<typeof SignalNameSchema>;

/** How output bytes travel in JSON: UTF-8 text, or base64 of the raw bytes. */
export const OutputEncodingSchema = v.picklist(["utf8", "base64"], 'must be "utf8" or "base64"');
export type OutputEncoding = v.InferOutput<typeof OutputEncodingSchema>;

const MAX_ARGV_ITEMS = 4096;
const MAX_ENV_ENTRIES = 1024;
/** Larger than any real timer needs, small enough for setTimeout (which overflows past 2^31-1 ms). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

const EnvSchema = v.pipe(
  v.record(
    v.pipe(v.string(), v.regex(/^[^=\0]+$/, "names must be non-empty and hold neither '=' nor NUL")),
    v.pipe(v.string("values must be strings"), v.regex(/^[^\0]*$/, "values must not contain NUL")),
  ),
  v.check((env) => Object.keys(env).length <= MAX_ENV_ENTRIES, `must have at most ${MAX_ENV_ENTRIES} entries`),
);

/** Ask the server to run a command. Exactly one of `argv` and `cmd`. */
export const ExecMessageSchema = v.pipe(
  v.object({
    type: v.literal("exec"),
    id: ExecIdSchema,
    argv: v.optional(
      v.pipe(
        v.array(NoNulStringSchema),
        v.minLength(1, "must hold at least the program"),
        v.maxLength(MAX_ARGV_ITEMS, `must have at most ${MAX_ARGV_ITEMS} items`),
      ),
    ),
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
  }),
  v.check((m) => (m.argv === undefined) !== (m.cmd === undefined), "exec needs exactly one of argv and cmd"),
);
export type ExecMessage = v.InferOutput<typeof ExecMessageSchema>;

/** Bytes for an exec's stdin, or its end. */
export const StdinMessageSchema = v.pipe(
  v.object({
    type: v.literal("stdin"),
    id: ExecIdSchema,
    data: v.optional(v.string()),
    encoding: v.optional(OutputEncodingSchema),
    eof: v.optional(v.boolean()),
  }),
  v.check((m) => m.data !== undefined || m.eof === true, "stdin needs data, eof: true, or both"),
);
export type StdinMessage = v.InferOutput<typeof StdinMessageSchema>;

/** Send a signal to every process of an exec. */
export const SignalMessageSchema = v.object({
  type: v.literal("signal"),
  id: ExecIdSchema,
  signal: SignalNameSchema,
});
export type SignalMessage = v.InferOutput<typeof SignalMessageSchema>;

/** Every message a client may send, discriminated by `type`. */
export const ClientMessageSchema = v.variant("type", [ExecMessageSchema, StdinMessageSchema, SignalMessageSchema, ...FILE_REQUEST_SCHEMAS]);
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;

/** The `type` values a client may send. */
export const CLIENT_MESSAGE_TYPES = ["exec", "stdin", "signal", ...FILE_REQUEST_TYPES] as const;
