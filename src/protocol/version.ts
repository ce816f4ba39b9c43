/** The wire protocol's major version, sent in `hello.protocol`. */
export const PROTOCOL_VERSION = 1;

/** The WebSocket subprotocol of this protocol version. */
export const SUBPROTOCOL = "bunker.v1";

/** Browsers cannot set headers on a WebSocket, so a token may ride as a subprotocol with this prefix. */
export const TOKEN_SUBPROTOCOL_PREFIX = "bunker.token.";

/** The path of the WebSocket endpoint. */
export const WEBSOCKET_PATH = "/ws";

/** The readiness endpoint (GET): answers without the token, for probes that cannot carry one. */
export const HEALTHZ_PATH = "/healthz";

/** A resume secret rides as a subprotocol beside `bunker.v1`, so that it never lands in a URL. */
export const RESUME_SUBPROTOCOL_PREFIX = "bunker.resume.";

/**
 * A session's view secret (`hello.viewSecret`) rides the same way: with `?session=<id>` it joins
 * that session as a viewer, read-only, without the server's token.
 */
export const VIEW_SUBPROTOCOL_PREFIX = "bunker.view.";

/**
 * Query parameters of the WebSocket URL. They name a session, which is a routing key and not a
 * secret: a load balancer may hash on them (`hash $arg_session$arg_name consistent;` in nginx).
 */
export const SESSION_QUERY_PARAM = "session";
export const NAME_QUERY_PARAM = "name";
/** `?session=<id>&create=1`: create a session with that id instead of resuming one. */
export const CREATE_QUERY_PARAM = "create";
/**
 * `?session=<id>&replaces=<connection>` on a resume: the socket of that session whose `hello` said
 * `connection: <connection>` is cut before this one is greeted (see create-server.ts).
 */
export const REPLACES_QUERY_PARAM = "replaces";
/**
 * `?detachTtlMs=<ms>`: how long the session's commands may run with no socket joined, at most the
 * server's `--detach-ttl`. A browser page asks for a short one: a tab closed for good is never
 * told apart from a reload, and its shell held an exec slot for the server's whole TTL.
 */
export const DETACH_TTL_QUERY_PARAM = "detachTtlMs";
/** The shortest detach TTL a client may ask for: a reload or a brief drop must not end the session. */
export const MIN_DETACH_TTL_MS = 1000;
