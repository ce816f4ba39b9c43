import type { ServerMessage, ExitMessage, OutputMessage } from "../../src/protocol/index.ts";
import type { TestServer } from "./server-process.ts";

/** A test's WebSocket client: every server message lands in a queue that tests await. */
export interface TestClient extends AsyncDisposable {
  readonly ws: WebSocket;
  readonly hello: Extract<ServerMessage, { type: "hello" }>;
  send(message: unknown): void;
  sendRaw(data: string | Uint8Array<ArrayBuffer>): void;
  /** The next message that matches, waiting for it; earlier non-matching messages stay queued. */
  next<T extends ServerMessage = ServerMessage>(matches?: (message: ServerMessage) => boolean): Promise<T>;
  /** Takes every already-received message that matches, without waiting. */
  takeQueued(matches: (message: ServerMessage) => boolean): ServerMessage[];
  /** Every message of one exec up to and including its exit. */
  runToExit(id: string): Promise<ExecTranscript>;
  /** Sends an exec and collects it to its exit. */
  exec(message: Record<string, unknown> & { id: string }): Promise<ExecTranscript>;
  /** Resolves with the close code. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** One exec's messages, with its output joined per stream. */
export interface ExecTranscript {
  messages: ServerMessage[];
  stdout: string;
  stderr: string;
  exit: ExitMessage;
  errors: Extract<ServerMessage, { type: "error" }>[];
}

/** A binary frame as the test client queues it. */
export interface BinaryFrame {
  type: "binary";
  bytes: Uint8Array;
}

export interface ConnectOptions {
  token?: string | undefined;
  /** false: resolve on open without waiting for hello (for refused sockets); `hello` is then undefined. */
  waitForHello?: boolean;
  /** PEM of a certificate to trust, for wss:// through a TLS proxy. */
  ca?: string;
  /** Query string to add to the URL (`session=...`, `name=...`). */
  query?: Record<string, string>;
  protocols?: string[];
  headers?: Record<string, string>;
}

/** Opens a WebSocket to a test server and waits for hello. */
export async function connect(server: Pick<TestServer, "url" | "token">, options: ConnectOptions = {}): Promise<TestClient> {
  const token = "token" in options ? options.token : server.token;
  const headers: Record<string, string> = { ...options.headers };
  if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
  const url = new URL(server.url);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const ws = new WebSocket(url.href, { headers, protocols: options.protocols ?? ["bunker.v1"], ...(options.ca !== undefined && { tls: { ca: options.ca } }) } as unknown as string[]);
  const queue: ServerMessage[] = [];
  const waiters: { matches: (message: ServerMessage) => boolean; resolve: (message: ServerMessage) => void }[] = [];
  let failure: Error | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => {
      failure = new Error(`socket closed (${event.code} ${event.reason}) while waiting for a message`);
      for (const waiter of waiters.splice(0)) (waiter as unknown as { reject?: (e: Error) => void }).reject?.(failure);
      resolve({ code: event.code, reason: event.reason });
    });
  });
  ws.binaryType = "arraybuffer";
  ws.addEventListener("message", (event) => {
    // Binary frames (encoding "binary") are queued as pseudo-messages of type "binary".
    const message = (
      typeof event.data === "string" ? JSON.parse(event.data) : { type: "binary", bytes: new Uint8Array(event.data as ArrayBuffer) }
    ) as ServerMessage;
    const index = waiters.findIndex((waiter) => waiter.matches(message));
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(message);
    else queue.push(message);
  });
  const next = <T extends ServerMessage>(matches: (message: ServerMessage) => boolean = () => true): Promise<T> => {
    const index = queue.findIndex(matches);
    if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0] as T);
    if (failure) return Promise.reject(failure);
    return new Promise<T>((resolve, reject) => {
      const waiter = { matches, resolve: resolve as (message: ServerMessage) => void, reject };
      waiters.push(waiter);
    });
  };
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("WebSocket failed to open")), { once: true });
  });
  const hello =
    options.waitForHello === false
      ? (undefined as unknown as Extract<ServerMessage, { type: "hello" }>)
      : await next<Extract<ServerMessage, { type: "hello" }>>((message) => message.type === "hello");

  const runToExit = async (id: string): Promise<ExecTranscript> => {
    const messages: ServerMessage[] = [];
    for (;;) {
      const message = await next((m) => "id" in m && m.id === id);
      messages.push(message);
      if (message.type === "exit") break;
      if (message.type === "error" && !messages.some((m) => m.type === "started")) break;
    }
    const outputs = messages.filter((m): m is OutputMessage => m.type === "output");
    const join = (stream: string) => outputs.filter((m) => m.stream === stream).map((m) => m.data).join("");
    return {
      messages,
      stdout: join("stdout"),
      stderr: join("stderr"),
      exit: messages.find((m): m is ExitMessage => m.type === "exit")!,
      errors: messages.filter((m): m is Extract<ServerMessage, { type: "error" }> => m.type === "error"),
    };
  };

  return {
    ws,
    hello,
    send: (message) => ws.send(JSON.stringify(message)),
    sendRaw: (data) => ws.send(data),
    next,
    takeQueued(matches) {
      const taken = queue.filter(matches);
      for (const message of taken) queue.splice(queue.indexOf(message), 1);
      return taken;
    },
    runToExit,
    exec(message) {
      ws.send(JSON.stringify({ type: "exec", ...message }));
      return runToExit(message.id);
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
