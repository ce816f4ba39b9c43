/**
 * The one platform-specific piece: how a WebSocket is opened, and whether it can carry headers.
 * Browsers' WebSocket, Bun's and the `ws` package's all satisfy WebSocketLike; this file imports
 * none of them, so browser bundles never pull in `ws`.
 */

/** A message event as the three implementations deliver it. */
export interface WebSocketMessageEventLike {
  readonly data: unknown;
}

/** A close event. */
export interface WebSocketCloseEventLike {
  readonly code: number;
  readonly reason: string;
}

/** The part of the WebSocket API the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection without a closing handshake: `ws` and Bun have it, browsers do not. */
  terminate?(): void;
  addEventListener(type: "open", listener: () => void): void;
  addEventListener(type: "message", listener: (event: WebSocketMessageEventLike) => void): void;
  addEventListener(type: "close", listener: (event: WebSocketCloseEventLike) => void): void;
  addEventListener(type: "error", listener: (event: { message?: string }) => void): void;
}

/** A WebSocket class: the global one, Bun's, or `ws`. */
export type WebSocketConstructor = new (url: string, protocols?: string[], options?: never) => WebSocketLike;

/** `readyState` of an open socket (the same constant everywhere). */
export const OPEN = 1;

/**
 * How a WebSocket class takes request headers: `ws` takes them in a third argument, Bun in an
 * options object in place of the protocols, browsers not at all.
 */
export type HeaderStyle = "ws" | "bun" | "none";

/**
 * Recognizes the WebSocket class: Bun's is the global one under Bun; `ws` (and Bun's stand-in for
 * it) has `terminate`, which no browser WebSocket has.
 */
export function detectHeaderStyle(WebSocketClass: WebSocketConstructor): HeaderStyle {
  if ("Bun" in globalThis && WebSocketClass === (globalThis as { WebSocket?: unknown }).WebSocket) return "bun";
  const prototype = WebSocketClass.prototype as Record<string, unknown> | undefined;
  if (typeof prototype?.["terminate"] === "function" && typeof prototype["ping"] === "function") return "ws";
  return "none";
}

/** Opens a socket with the protocols offered and, where the class allows them, the headers. */
export function openWebSocket(
  WebSocketClass: WebSocketConstructor,
  style: HeaderStyle,
  url: string,
  protocols: string[],
  headers: Record<string, string>,
): WebSocketLike {
  const hasHeaders = Object.keys(headers).length > 0;
  const Loose = WebSocketClass as unknown as new (url: string, second?: unknown, third?: unknown) => WebSocketLike;
  if (style === "ws") return new Loose(url, protocols, hasHeaders ? { headers } : undefined);
  if (style === "bun" && hasHeaders) return new Loose(url, { protocols, headers });
  return new Loose(url, protocols);
}

/**
 * Lets go of a socket given up on (no `hello` in time, no answer to a ping). A closing handshake
 * would wait for a peer that does not answer (`ws` for 30 s), so `terminate` where the class has it;
 * a browser's WebSocket can only start the handshake.
 */
export function dropWebSocket(socket: WebSocketLike): void {
  if (typeof socket.terminate === "function") socket.terminate();
  else socket.close();
}

/**
 * Resolves after the event loop has delivered what the socket received meanwhile. A loop that
 * sends and awaits only promises runs in microtasks and never lets a `message` event in: a long
 * stdin write then went on to its end without seeing the command's `exit` or the server's refusals.
 */
export function yieldToSocketEvents(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

/** Resolves when the socket has queued at most `bytes`; a WebSocket has no drain event, so it polls. */
export async function waitForBufferedBelow(socket: WebSocketLike, bytes: number): Promise<void> {
  while (socket.readyState === OPEN && socket.bufferedAmount > bytes) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
