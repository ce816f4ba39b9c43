import * as v from "valibot";
import { ERROR_CODES, type ErrorCode } from "./errors.ts";
import { ExecIdSchema } from "./client-messages.ts";
import { FILE_REPLY_SCHEMAS } from "./file-messages.ts";

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
});
export type SandboxInfo = v.InferOutput<typeof SandboxInfoSchema>;

/** First message of every connection. */
export const HelloMessageSchema = v.object({
  type: v.literal("hello"),
  protocol: v.number(),
  version: v.string(),
  session: v.string(),
  workspace: v.string(),
  sandbox: SandboxInfoSchema,
});
export type HelloMessage = v.InferOutput<typeof HelloMessageSchema>;

/** The exec's process exists. `pid` is the host pid of the process bunker spawned. */
export const StartedMessageSchema = v.object({
  type: v.literal("started"),
  id: ExecIdSchema,
  pid: v.number(),
});
export type StartedMessage = v.InferOutput<typeof StartedMessageSchema>;

export const OutputStreamSchema = v.picklist(["stdout", "stderr"]);
export type OutputStream = v.InferOutput<typeof OutputStreamSchema>;

/** A chunk of output. `offset` counts the raw bytes of this stream sent before the chunk. */
export const OutputMessageSchema = v.object({
  type: v.literal("output"),
  id: ExecIdSchema,
  stream: OutputStreamSchema,
  offset: v.number(),
  data: v.string(),
});
export type OutputMessage = v.InferOutput<typeof OutputMessageSchema>;

export const EXIT_REASONS = ["exited", "signaled", "timeout", "killed", "output_limit"] as const;
export const ExitReasonSchema = v.picklist(EXIT_REASONS);
export type ExitReason = v.InferOutput<typeof ExitReasonSchema>;

/** The exec is over; always after its last output. */
export const ExitMessageSchema = v.object({
  type: v.literal("exit"),
  id: ExecIdSchema,
  code: v.nullable(v.number()),
  signal: v.nullable(v.string()),
  reason: ExitReasonSchema,
  durationMs: v.number(),
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

/** Every message the server sends, discriminated by `type`. */
export const ServerMessageSchema = v.variant("type", [
  HelloMessageSchema,
  StartedMessageSchema,
  OutputMessageSchema,
  ExitMessageSchema,
  ErrorMessageSchema,
  ...FILE_REPLY_SCHEMAS,
]);
export type ServerMessage = v.InferOutput<typeof ServerMessageSchema>;
