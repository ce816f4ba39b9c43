import * as v from "valibot";
import { ServerMessageSchema, decodeServerMessage, describeIssue, type ServerMessage } from "../protocol/index.ts";

export { createBinaryFramePairer, type BinaryFramePairer, type BinaryFrameResult } from "../protocol/index.ts";

/** What one text frame from the server turned out to be. */
export type TextFrameResult =
  | { kind: "message"; message: ServerMessage }
  /** A message type this client does not know: a later server's; ignored, as v1 asks. */
  | { kind: "unknown"; type: string }
  | { kind: "violation"; problem: string };

const KNOWN_TYPES: ReadonlySet<string> = new Set(ServerMessageSchema.options.map((option) => option.entries.type.literal));

/**
 * Decodes a server text frame with the protocol's schemas. Later v1 servers may add message types
 * and values to enumerations (error codes, exit reasons, sandbox backends): an unknown type is
 * reported as such, and a message whose only faults are unknown enumeration strings is accepted as
 * it is, so that the client ignores what it does not know instead of failing on it. Never throws.
 */
export function decodeServerText(text: string): TextFrameResult {
  const decoded = decodeServerMessage(text);
  if (decoded.ok) return { kind: "message", message: decoded.message };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "violation", problem: decoded.problem };
  }
  const type = typeof value === "object" && value !== null ? (value as Record<string, unknown>)["type"] : undefined;
  if (typeof type === "string" && !KNOWN_TYPES.has(type)) return { kind: "unknown", type };
  const result = v.safeParse(ServerMessageSchema, value);
  if (!result.success && result.issues.every((issue) => issue.type === "picklist" && typeof issue.input === "string")) {
    return { kind: "message", message: value as ServerMessage };
  }
  return { kind: "violation", problem: result.success ? decoded.problem : describeIssue(result.issues[0]) };
}

/** The bytes of a binary message event's data, whichever form the WebSocket delivers it in. */
export function binaryFrameBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}
