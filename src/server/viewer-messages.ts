import type { ClientMessage } from "../protocol/index.ts";

/**
 * What a viewer's socket may send: it follows output (`attach`, `detach`, `ack`) and exec states
 * (`list`), and keeps its connection alive (`ping`). Everything that acts on the session (exec,
 * stdin, signal, resize, close, every file request) is refused with `forbidden_by_policy`.
 */
const VIEWER_MESSAGE_TYPES: ReadonlySet<ClientMessage["type"]> = new Set(["attach", "detach", "ack", "list", "ping"]);

/** Why a viewer may not send `message`, or undefined when it may. */
export function viewerRefusal(message: ClientMessage): string | undefined {
  if (VIEWER_MESSAGE_TYPES.has(message.type)) return undefined;
  return `${message.type}: this socket views the session read-only (it joined with the view secret); a viewer may only attach, detach, ack, list and ping`;
}
