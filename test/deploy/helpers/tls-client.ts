/**
 * A WebSocket client for bunker through a TLS proxy. Unlike test/helpers/client.ts it trusts a
 * given certificate and does not insist on hello: the first message may be the `error` of a
 * refusal, which is what a resume of a session on a dead host gets.
 */
import type { ServerMessage } from "../../../src/protocol/index.ts";

export interface TlsClient extends AsyncDisposable {
  readonly ws: WebSocket;
  /** The first message the server sent: `hello`, or the `error` of a refusal. */
  readonly first: ServerMessage;
  send(message: Record<string, unknown>): void;
  /** The next message that matches, waiting for it; earlier non-matching messages stay queued. */
  next(matches?: (message: ServerMessage) => boolean): Promise<ServerMessage>;
  /** Takes every already-received message that matches, without waiting. */
  takeQueued(matches: (message: ServerMessage) => boolean): ServerMessage[];
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

export interface TlsConnectOptions {
  /** PEM of the certificate to trust. */
  ca: string;
  /** Sent as `Authorization: Bearer`. */
  token: string;
  /** Query parameters (`session`, `name`). */
  query?: Record<string, string>;
  /** Offered subprotocols; default `bunker.v1`. */
  protocols?: string[];
}

/** Opens a socket to `url` (`wss://host:port/ws`) and waits for the server's first message. */
export async function connectTls(url: string, options: TlsConnectOptions): Promise<TlsClient> {
  const target = new URL(url);
  for (const [key, value] of Object.entries(options.query ?? {})) target.searchParams.set(key, value);
  const ws = new WebSocket(target.href, {
    protocols: options.protocols ?? ["bunker.v1"],
    headers: { authorization: `Bearer ${options.token}` },
    tls: { ca: options.ca },
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const queue: ServerMessage[] = [];
  const waiters: { matches: (message: ServerMessage) => boolean; resolve: (message: ServerMessage) => void; reject: (error: Error) => void }[] = [];
  let failure: Error | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => {
      failure = new Error(`socket closed (${event.code} ${event.reason}) while waiting for a message`);
      for (const waiter of waiters.splice(0)) waiter.reject(failure);
      resolve({ code: event.code, reason: event.reason });
    });
  });
  ws.addEventListener("message", (event) => {
    const message = (
      typeof event.data === "string" ? JSON.parse(event.data) : { type: "binary", bytes: new Uint8Array(event.data as ArrayBuffer) }
    ) as ServerMessage;
    const index = waiters.findIndex((waiter) => waiter.matches(message));
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(message);
    else queue.push(message);
  });
  const next = (matches: (message: ServerMessage) => boolean = () => true): Promise<ServerMessage> => {
    const index = queue.findIndex(matches);
    if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0]!);
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => waiters.push({ matches, resolve, reject }));
  };
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`WebSocket to ${target.href} failed to open`)), { once: true });
  });
  const first = await next();
  return {
    ws,
    first,
    send: (message) => ws.send(JSON.stringify(message)),
    next,
    takeQueued(matches) {
      const taken = queue.filter(matches);
      for (const message of taken) queue.splice(queue.indexOf(message), 1);
      return taken;
    },
    closed,
    async [Symbol.asyncDispose]() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
        ws.close();
        await closed;
      }
    },
  };
}
