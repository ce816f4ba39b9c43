import * as v from "valibot";
import { CLIENT_MESSAGE_TYPES, ClientMessageSchema, type ClientMessage } from "./client-messages.ts";
import { ServerMessageSchema, type ServerMessage } from "./server-messages.ts";
import { jsonShapeProblem } from "./json-shape.ts";
import { isPlainObject } from "./plain-object.ts";

/** A decoded message, or a sentence saying what was wrong with it (and the exec id, when one was readable). */
export type DecodeResult<T> = { ok: true; message: T } | { ok: false; id?: string; problem: string };

/** A text quoted from the client's own frame, cut to `most` characters. */
function shortened(text: string, most: number): string {
  return text.length > most ? `${text.slice(0, most - 3)}...` : text;
}

/**
 * Formats a valibot issue as "field: what is wrong", so that the reply names the field. Names in
 * the path are the client's own keys (an env name of 500,000 characters came back whole in the
 * reply, found by a review): each is cut, as the received value is.
 */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  const path = (issue.path ?? [])
    .map((item) => (typeof item.key === "number" ? `[${item.key}]` : `.${shortened(String(item.key), 64)}`))
    .join("")
    .replace(/^\./, "");
  const hasCustomMessage = !issue.message.startsWith("Invalid ");
  // The received value is quoted from the client's own frame: keep the reply short whatever it sent.
  const received = shortened(issue.received, 80);
  // JSON has no undefined: a field that reads as undefined is one the message left out.
  const what = hasCustomMessage ? issue.message : issue.received === "undefined" ? "is required" : `expected ${issue.expected ?? "something else"}, got ${received}`;
  return path ? `${path}: ${what}` : what;
}

type ClientMessageOption = (typeof ClientMessageSchema.options)[number];

/** The `type` literal an option of ClientMessageSchema is discriminated by (its object may sit in a pipe). */
function discriminatorOf(option: ClientMessageOption): string {
  const object = "pipe" in option ? option.pipe[0] : option;
  return object.entries.type.literal;
}

/**
 * Each message type's own schema. Validating against it directly, rather than through the variant
 * that tries the options in turn, halves the cost of a decode while the JIT has not yet optimised
 * valibot's code (measured: 38 against 22 µs for an exec message, one a millisecond), which is how
 * a server that runs a command every few milliseconds mostly runs it.
 */
const SCHEMA_BY_TYPE = new Map<string, ClientMessageOption>(ClientMessageSchema.options.map((option) => [discriminatorOf(option), option]));

function readableId(value: Record<string, unknown>): string | undefined {
  const id = value["id"];
  return typeof id === "string" && id.length > 0 && id.length <= 64 ? id : undefined;
}

/** Decodes one text frame from a client. Never throws. */
export function decodeClientMessage(text: string): DecodeResult<ClientMessage> {
  const shape = jsonShapeProblem(text);
  if (shape !== undefined) return { ok: false, problem: shape };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: "the frame is not valid JSON" };
  }
  if (!isPlainObject(value)) return { ok: false, problem: "a message must be a JSON object" };
  const id = readableId(value);
  const type = value["type"];
  const schema = typeof type === "string" ? SCHEMA_BY_TYPE.get(type) : undefined;
  if (!schema) {
    const what = typeof type === "string" ? `unknown message type ${JSON.stringify(type.slice(0, 64))}` : type === undefined ? "is required" : `must be a string, got ${typeof type}`;
    return { ok: false, ...(id && { id }), problem: `type: ${what}; expected one of ${CLIENT_MESSAGE_TYPES.join(", ")}` };
  }
  const result = v.safeParse(schema, value);
  if (result.success) return { ok: true, message: result.output as ClientMessage };
  return { ok: false, ...(id && { id }), problem: describeIssue(result.issues[0]) };
}

/** Decodes one text frame from the server, for clients. Never throws. */
export function decodeServerMessage(text: string): DecodeResult<ServerMessage> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: "the frame is not valid JSON" };
  }
  const result = v.safeParse(ServerMessageSchema, value);
  if (result.success) return { ok: true, message: result.output };
  return { ok: false, problem: describeIssue(result.issues[0]) };
}
