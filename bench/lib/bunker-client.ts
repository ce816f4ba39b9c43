/**
 * A lean bunker client for measuring: no queue of past messages (a 1 GB stream would pile up in
 * one), just handlers per running exec. Uses Bun's WebSocket, the same client as for websocketd.
 */
import { decodeOutputHeader, type OutputHeader } from "../../src/protocol/binary-frames.ts";
import type { ExitMessage, HelloMessage, ServerMessage } from "../../src/protocol/index.ts";

/** One exec as the benchmarks send it. */
export type ExecRequest = {
  id: string;
  encoding?: "utf8" | "base64" | "binary";
  pty?: { cols: number; rows: number };
} & ({ argv: string[] } | { cmd: string });

/** A chunk of output: `data` is the JSON string (utf8 or base64 as asked), or the raw bytes of a binary frame. */
export interface OutputChunk {
  stream: "stdout" | "stderr";
  offset: number;
  data: string | Uint8Array;
}

/** What an exec's caller wants to see on the way to its exit. */
export interface ExecHandlers {
  onOutput?(chunk: OutputChunk): void;
  /** Bytes `from` to `to` of a stream that the server no longer had and will not send. */
  onGap?(gap: { stream: string; from: number; to: number }): void;
  onStarted?(): void;
}

/** An open session. */
export interface BunkerConnection {
  readonly hello: HelloMessage;
  /** Sends an exec and resolves with its exit. */
  exec(request: ExecRequest, handlers?: ExecHandlers): Promise<ExitMessage>;
  /** Sends any client message as it is (stdin, signal, ...). */
  send(message: Record<string, unknown>): void;
  /**
   * Ends the session (`close`: sessions outlive their sockets, and one left behind would hold its
   * workspace until its idle TTL), closes the socket and waits for the close.
   */
  close(): Promise<void>;
}

interface Pending extends ExecHandlers {
  resolve(exit: ExitMessage): void;
  reject(error: Error): void;
}

/** Opens a session on `url` and waits for hello. */
export async function openBunker(url: string, token: string | undefined): Promise<BunkerConnection> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const ws = new WebSocket(url, { headers, protocols: ["bunker.v1"] } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const pending = new Map<string, Pending>();
  const hello = Promise.withResolvers<HelloMessage>();
  const closed = Promise.withResolvers<void>();
  // Binary output is a header frame, then a frame of raw bytes; a header of an unknown kind is
  // skipped together with its payload.
  let header: OutputHeader | "unknown" | undefined;

  const onBinary = (bytes: Uint8Array) => {
    if (header === undefined) {
      header = decodeOutputHeader(bytes) ?? "unknown";
      return;
    }
    const current = header;
    header = undefined;
    if (current !== "unknown") pending.get(current.id)?.onOutput?.({ stream: current.stream, offset: current.offset, data: bytes });
  };

  const onMessage = (message: ServerMessage) => {
    switch (message.type) {
      case "hello":
        hello.resolve(message);
        return;
      case "started":
        pending.get(message.id)?.onStarted?.();
        return;
      case "output":
        pending.get(message.id)?.onOutput?.({ stream: message.stream, offset: message.offset, data: message.data });
        return;
      case "gap":
        pending.get(message.id)?.onGap?.(message);
        return;
      case "exit":
        pending.get(message.id)?.resolve(message);
        pending.delete(message.id);
        return;
      case "error": {
        const waiter = message.id === undefined ? undefined : pending.get(message.id);
        waiter?.reject(new Error(`${message.code}: ${message.message}`));
        if (message.id !== undefined) pending.delete(message.id);
        return;
      }
      default:
        return;
    }
  };

  ws.addEventListener("message", (event) => {
    if (typeof event.data === "string") onMessage(JSON.parse(event.data) as ServerMessage);
    else onBinary(new Uint8Array(event.data as ArrayBuffer));
  });
  ws.addEventListener("close", (event) => {
    const error = new Error(`socket closed (${event.code} ${event.reason})`);
    hello.reject(error);
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
    closed.resolve();
  });

  return {
    hello: await hello.promise,
    exec(request, handlers = {}) {
      const { promise, resolve, reject } = Promise.withResolvers<ExitMessage>();
      pending.set(request.id, { ...handlers, resolve, reject });
      ws.send(JSON.stringify({ type: "exec", ...request }));
      return promise;
    },
    send(message) {
      ws.send(JSON.stringify(message));
    },
    async close() {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "close" }));
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      await closed.promise;
    },
  };
}
