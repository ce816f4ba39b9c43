import { connect, type BunkerError } from "../../src/client/index.ts";
import type { WebSocketConstructor, WebSocketLike } from "../../src/client/websocket.ts";

type Listener = (event: never) => void;

/** A scripted server on the other end of a fake WebSocket: tests push frames and read what the client sent. */
export interface FakeServer {
  /** The socket the client opened (after `connect` was called). */
  readonly socket: FakeSocket;
  /** The class to pass as `connect(url, { WebSocket })`. */
  readonly WebSocket: WebSocketConstructor;
}

/** A WebSocket with no network: it opens at once and records every frame the client sends. */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  bufferedAmount = 0;
  binaryType = "blob";
  readonly sent: unknown[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  readonly #listeners = new Map<string, Listener[]>();

  constructor(
    readonly url: string,
    readonly protocols: string[] | undefined,
    readonly options: unknown,
  ) {
    queueMicrotask(() => {
      this.readyState = 1;
      this.#emit("open", {});
    });
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.closedWith = { ...(code !== undefined && { code }), ...(reason !== undefined && { reason }) };
    this.readyState = 3;
    queueMicrotask(() => this.#emit("close", { code: code ?? 1005, reason: reason ?? "" }));
  }

  /** The server sends a JSON message. */
  serverSends(message: Record<string, unknown>): void {
    this.#emit("message", { data: JSON.stringify(message) });
  }

  /** The server sends a raw frame (a string, or bytes for a binary frame). */
  serverSendsFrame(data: string | Uint8Array): void {
    this.#emit("message", { data: typeof data === "string" ? data : data.slice().buffer });
  }

  /** The server closes the connection. */
  serverCloses(code: number, reason = ""): void {
    this.readyState = 3;
    this.#emit("close", { code, reason });
  }

  /** Messages the client sent of one type. */
  sentOfType(type: string): Record<string, unknown>[] {
    return (this.sent as Record<string, unknown>[]).filter((message) => message["type"] === type);
  }

  #emit(type: string, event: object): void {
    for (const listener of this.#listeners.get(type) ?? []) (listener as (event: object) => void)(event);
  }
}

/** A fake WebSocket class that hands out one socket; `server.socket` is it once `connect` has run. */
export function createFakeServer(): FakeServer {
  let socket: FakeSocket | undefined;
  class FakeWebSocket extends FakeSocket {
    constructor(url: string, protocols?: string[], options?: unknown) {
      super(url, protocols, options);
      socket = this;
    }
  }
  return {
    get socket() {
      if (!socket) throw new Error("connect has not opened a socket yet");
      return socket;
    },
    WebSocket: FakeWebSocket as unknown as WebSocketConstructor,
  };
}

/** A complete `hello`, with fields overridable. */
export function helloMessage(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "hello",
    protocol: 1,
    version: "0.1.0",
    session: "s1",
    resumeSecret: "secret-abc",
    resumed: false,
    execs: [],
    host: "test",
    workspace: "/ws/s1",
    sandbox: { backend: "none" },
    ...fields,
  };
}

/** A session of the client library connected to a fake server, past its `hello` (with `hello`'s fields). */
export async function connectFake(options: { hello?: Record<string, unknown>; onError?: (error: BunkerError) => void } = {}) {
  const server = createFakeServer();
  const connecting = connect("ws://fake/ws", { token: "tok", WebSocket: server.WebSocket, ...(options.onError && { onError: options.onError }) });
  await Promise.resolve();
  server.socket.serverSends(helloMessage(options.hello));
  return { server, socket: server.socket, session: await connecting };
}
