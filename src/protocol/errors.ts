/**
 * Every error code the server can put in an `error` message, with one sentence each.
 * docs/PROTOCOL.md copies this table; keep them in step.
 */
export const ERROR_CODES = {
  bad_message: "The frame was not JSON, had an unknown type, or broke the schema; the message names the field.",
  duplicate_id: "The exec id was used before in this session for a different request (resending the same exec gets `state` instead), or an upload, download or watch with that id is already open on this connection.",
  unknown_exec: "No exec with that id exists in this session.",
  invalid_state:
    "The exec cannot take this now: stdin without `stdin: true` or after eof, resize without a terminal, stdin, signal or resize after exit.",
  path_outside_workspace: "A path (such as `cwd`) would leave the session's workspace.",
  not_found: "A path the message names (such as `cwd`) does not exist.",
  is_directory: "The path is a directory where a file is needed.",
  not_directory: "The path, or one of its parents, is not a directory where one is needed.",
  exists: "The path exists already and the request asked not to replace it.",
  precondition_failed: "An HTTP precondition (`If-Match`, `If-Unmodified-Since`, `If-None-Match` with a tag) does not hold for the file as it is now.",
  too_large: "The file or transfer is larger than the server accepts for this request.",
  quota_exceeded: "The write would take the workspace past its quota (`--workspace-quota-bytes`), or the filesystem has no room left for it (`ENOSPC`, `EDQUOT`).",
  permission_denied: "The server's user may not read or change the path (its permissions, or a read-only filesystem).",
  unsupported_file_type: "The path is a fifo, device, socket, or a file with several hard links, which the server does not touch.",
  unknown_session: "No session with that id lives on this server (it ended, or lives on another host), or the resume secret is wrong; also to a viewer whose view secret was just revoked.",
  unknown_transfer: "No upload, download or watch with that id is open on this connection.",
  limit_exceeded: "A server limit was reached (concurrent execs per session or per server, and the like).",
  spawn_failed: "The command could not be started.",
  forbidden_by_policy: "The request asked for more than the server's policy allows (network, a higher resource limit; a file change that a symlink steers at, into or above a protected path such as .git/config; anything but attach, detach, ack, list and ping from a viewer); a request may only narrow it.",
  sandbox_unavailable: "The request needs more than this server's sandbox can enforce (`readOnly: true` under `none`).",
  internal: "The server failed in a way that is its own fault; the message says what it was doing.",
} as const;

/** A stable error code, as sent on the wire. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** WebSocket close codes the server uses, with their meaning. */
export const CLOSE_CODES = {
  /** The server is shutting down. */
  goingAway: 1001,
  /** The URL asked for something malformed (a bad session name, a bad `?detachTtlMs=`). */
  policyViolation: 1008,
  /** A frame was larger than the server accepts. */
  messageTooBig: 1009,
  /** The server hit an internal failure with this connection. */
  internalError: 1011,
  /** The server is at `--max-sessions`, or the session at its 16 viewers; try again later. */
  tryAgainLater: 1013,
  /** The session was closed on request (`close`) or its detach TTL ran out. */
  sessionClosed: 4000,
  /** Resume failed: no such session here, or the resume secret is wrong (an `error` with `unknown_session` comes first). */
  unknownSession: 4404,
  /** The client did not read its output and the server's send queue reached its hard cap. */
  backpressureLimit: 4008,
  /** The client sent messages faster than `--max-messages-per-second` allows. */
  rateLimited: 4029,
} as const;
