/** The wire protocol's major version, sent in `hello.protocol`. */
export const PROTOCOL_VERSION = 1;

/** The WebSocket subprotocol of this protocol version. */
export const SUBPROTOCOL = "bunker.v1";

/** Browsers cannot set headers on a WebSocket, so a token may ride as a subprotocol with this prefix. */
export const TOKEN_SUBPROTOCOL_PREFIX = "bunker.token.";

/** The path of the WebSocket endpoint. */
export const WEBSOCKET_PATH = "/ws";
