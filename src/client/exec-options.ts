import * as v from "valibot";
import { ExecMessageSchema, describeIssue, type ExecMessage, type OutputEncoding } from "../protocol/index.ts";

/**
 * Options of `session.exec`: the fields of the `exec` message (see docs/PROTOCOL.md), plus an
 * optional `id`. One default differs from the server's: `encoding` is `"binary"` (exact bytes, no
 * base64 overhead); the handle decodes text itself.
 */
export type ExecOptions = Omit<ExecMessage, "type" | "id" | "argv" | "cmd"> & {
  /** The exec id (1 to 64 characters); generated when absent. Resending an id the server has gives `state`. */
  id?: string;
};

/** What to run: an argv array (no shell), or one shell line (run as `/bin/sh -c line`). */
export type ExecCommand = string | readonly string[];

/** The client's default output encoding. */
export const DEFAULT_ENCODING: OutputEncoding = "binary";

/** Builds and checks the `exec` message. Throws a TypeError naming the field and quoting the value. */
export function buildExecMessage(command: ExecCommand, options: ExecOptions, makeId: () => string): ExecMessage {
  if (typeof command !== "string" && !Array.isArray(command)) {
    throw new TypeError(`exec: the command must be a string (a shell line) or an array of strings (argv), got ${JSON.stringify(command)}`);
  }
  const { id, ...fields } = options;
  const message = {
    type: "exec" as const,
    id: id ?? makeId(),
    ...(typeof command === "string" ? { cmd: command } : { argv: [...command] }),
    ...fields,
    encoding: fields.encoding ?? DEFAULT_ENCODING,
  };
  const checked = v.safeParse(ExecMessageSchema, message);
  if (!checked.success) {
    const issue = checked.issues[0];
    const shown = issue.path?.length ? ` (got ${quotedBriefly(issue.input)})` : "";
    throw new TypeError(`exec: ${describeIssue(issue)}${shown}`);
  }
  return checked.output;
}

/**
 * The value a refusal quotes, at most ~80 characters: 5,000 arguments came back as one line of
 * 30 KB, every argument in it (found by a review).
 */
function quotedBriefly(input: unknown): string {
  const text = JSON.stringify(input) ?? String(input);
  if (text.length <= 80) return text;
  return Array.isArray(input) ? `an array of ${input.length} items` : `${text.slice(0, 77)}...`;
}
