/**
 * A WebSocket client for bunker over TLS (through a proxy): the test helper's client cannot be
 * given a certificate to trust. Every text message lands in a queue that tests await.
 */
import type { ServerMessage } from "../../src/protocol/index.ts";

export interface WssClient extends AsyncDisposable {
  readonly hello: Extract<ServerMessage, { type: "hello" }>;
  send(message: Record<string, unknown>): void;
  /** Every message of one exec, up to and including its exit (or an error before any started). */
  runToExit(id: string): Promise<ServerMessage[]>;
}

export interface WssConnectOptions {
  /** Sent as `Authorization: Bearer`; omit to present it as a subprotocol instead. */
  token?: string;
  protocols: string[];
  /** PEM of the certificate to trust. */
  ca: string;
}

/** Connects, waits for hello, and queues every later message. */
export async function connectWss(url: string, options: WssConnectOptions): Promise<WssClient> {
  const ws = new WebSocket(url, {
    protocols: options.protocols,
    headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
    tls: { ca: options.ca },
  } as unknown as string[]);
  const queue: ServerMessage[] = [];
  let wake: (() => void) | undefined;
  let closed: Error | undefined;
  ws.addEventListener("message", (event) => {
    queue.push(JSON.parse(String(event.data)) as ServerMessage);
    wake?.();
  });
  ws.addEventListener("close", (event) => {
    closed = new Error(`socket closed (${event.code} ${event.reason})`);
    wake?.();
  });
  const next = async (matches: (message: ServerMessage) => boolean): Promise<ServerMessage> => {
    for (;;) {
      const index = queue.findIndex(matches);
      if (index >= 0) return queue.splice(index, 1)[0]!;
      if (closed) throw closed;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  const hello = (await next((message) => message.type === "hello")) as Extract<ServerMessage, { type: "hello" }>;
  return {
    hello,
    send: (message) => ws.send(JSON.stringify(message)),
    async runToExit(id) {
      const messages: ServerMessage[] = [];
      for (;;) {
        const message = await next((m) => "id" in m && m.id === id);
        messages.push(message);
        if (message.type === "exit") return messages;
        if (message.type === "error" && !messages.some((m) => m.type === "started")) return messages;
      }
    },
    async [Symbol.asyncDispose]() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
        const done = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve(), { once: true }));
        ws.close();
        await done;
      }
    },
  };
}
