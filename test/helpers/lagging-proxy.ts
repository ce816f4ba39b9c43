// A TCP proxy that can keep back the newest bytes a client sent before a cut, so that a test knows
// bytes were in flight on the connection that died. tcp-proxy.ts (freeze) stalls both ways and for
// every later connection too; this one only lags, one way, until the cut, and the client goes on
// sending meanwhile (whatever pacing it keeps to sees all but those bytes arrive). It also counts
// what it passed on, so that a test cuts at a point of the transfer without polling the server.
import { connect, createServer, type Socket } from "node:net";
import { createConditions } from "./conditions.ts";
import { listenOnLoopback } from "./listen-loopback.ts";

export interface LaggingProxy extends AsyncDisposable {
  readonly port: number;
  /**
   * From now on passes on what clients send only once `bytes` newer ones have come after it: the
   * newest `bytes` wait in the proxy. Resolves once that many are waiting. Only while a client
   * streams: a request it then waits on the answer to (stdin credit) would wait for good.
   */
  lag(bytes: number): Promise<void>;
  /** Resolves once `bytes` from clients were passed on to the server since the start, or the last cut. */
  passed(bytes: number): Promise<void>;
  /** Destroys every connection, and the bytes kept back with them; new ones pass everything at once. */
  dropAll(): void;
  /** Stops lagging: what is kept back goes on now, to connections still open. */
  releaseAll(): void;
}

/** Starts a proxy on 127.0.0.1, port 0, to `127.0.0.1:targetPort`. */
export async function startLaggingProxy(targetPort: number): Promise<LaggingProxy> {
  const sockets = new Set<Socket>();
  let lagBytes = 0;
  let keptBytes = 0;
  let passedBytes = 0;
  const kept: { chunk: Buffer; upstream: Socket; client: Socket }[] = [];
  const { until, changed } = createConditions();
  /** Passes on the oldest kept bytes until no more than lagBytes are kept. */
  const release = () => {
    while (keptBytes > lagBytes) {
      const first = kept[0]!;
      const take = Math.min(first.chunk.byteLength, keptBytes - lagBytes);
      forward(first.client, first.upstream, first.chunk.subarray(0, take));
      keptBytes -= take;
      if (take === first.chunk.byteLength) kept.shift();
      else first.chunk = first.chunk.subarray(take);
    }
  };
  const forward = (client: Socket, upstream: Socket, chunk: Buffer) => {
    passedBytes += chunk.byteLength;
    changed();
    if (!upstream.write(chunk)) {
      client.pause();
      upstream.once("drain", () => client.resume());
    }
  };
  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.pipe(client);
    client.on("data", (chunk: Buffer) => {
      if (lagBytes === 0) return forward(client, upstream, chunk);
      kept.push({ chunk, upstream, client });
      keptBytes += chunk.byteLength;
      release();
      changed();
    });
  });
  const port = await listenOnLoopback(server);
  return {
    port,
    lag(bytes) {
      lagBytes = bytes;
      return until(() => keptBytes >= bytes);
    },
    passed(bytes) {
      return until(() => passedBytes >= bytes);
    },
    releaseAll() {
      lagBytes = 0;
      release();
    },
    dropAll() {
      lagBytes = 0;
      keptBytes = 0;
      passedBytes = 0;
      kept.length = 0;
      for (const socket of sockets) socket.destroy();
    },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
