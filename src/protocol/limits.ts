/**
 * Protocol constants that code outside the protocol needs before any schema: the server's settings
 * import them at startup, and the schemas (valibot) load later, while the sandbox probe runs. Also
 * the bounds that two schema files share (client-messages.ts imports file-messages.ts, not back).
 */

/** Larger than any real timer needs, small enough for setTimeout (which overflows past 2^31-1 ms). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * The largest `ackWindowBytes` (exec, attach, file.download). An exec's subscription keeps what it
 * sent and was not acknowledged, so the window is bounded; a download is bounded alike.
 */
export const MAX_ACK_WINDOW_BYTES = 64 * 1024 * 1024;

/**
 * Bytes of stdin that may wait in the server for a command that has not read them yet, per exec: a
 * `stdin` message past it is refused (limit_exceeded). A writer that keeps to its credit (the
 * `limit` of `stdin.ack`) is never refused; so is a sole writer that keeps what it sent and was not
 * yet acknowledged by `stdin.ack` below it.
 */
export const MAX_PENDING_STDIN_BYTES = 8 * 1024 * 1024;

/**
 * How far a command's stdin advances between two `stdin.ack` messages. Far enough below the bound
 * that a writer waiting for room (it has most of the bound outstanding) always gets one, and large
 * enough that keystrokes and small writes get none.
 */
export const STDIN_ACK_STEP_BYTES = 1024 * 1024;

/**
 * The credit a socket gets when it asks (`stdin` with `credit: true`): its window then doubles each
 * time it uses half, up to its share of MAX_PENDING_STDIN_BYTES. Small, so that what an idle page
 * holds (and what a dropped socket holds until the server notices) leaves room for other writers.
 */
export const STDIN_INITIAL_CREDIT_BYTES = 1024 * 1024;

/**
 * Sockets that may hold stdin credit for one exec at a time (a page, an agent, a reconnect or two):
 * every `credit: true` sorts them, so their number is bounded. One more gets `limit_exceeded`.
 */
export const MAX_STDIN_CREDIT_WRITERS = 16;

/** The server's default `--max-messages-per-second`: what a client paces to when hello does not say (an older server). */
export const DEFAULT_MAX_MESSAGES_PER_SECOND = 1000;

/** File requests that may wait in one connection's queue on the server; past it, `limit_exceeded`. */
export const MAX_QUEUED_FILE_REQUESTS = 256;
/** Uploads, downloads and watches open at once on one connection; past it, `limit_exceeded`. */
export const MAX_OPEN_FILE_HANDLES = 32;

/**
 * What `hello` carries of each exec's command (ExecInfo `argv` or `cmd`), in UTF-8 bytes: enough to
 * name it. A resume lists every exec the session remembers, and their requests may add up to 8 MiB
 * (files written through heredocs); `list` and `state` carry a command whole.
 */
export const HELLO_COMMAND_BYTES = 256;
