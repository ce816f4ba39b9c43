// A TCP relay that can stall one way, as a relay or a NAT that stops forwarding does: it holds what
// clients send on the connections open at the time, then loses them, either on both sides (the
// held bytes die with them) or only on the client's (the server's side stays open, holding, until
// the relay gives up what it held). tcp-proxy.ts freezes both ways and every later connection too;
// lagging-proxy.ts keeps only the newest bytes, across connections. Here later connections pass
// everything, so the client can come back through the same relay while the old connection holds.
import { connect, createServer, type Socket } from "node:net";
import { listenOnLoopback } from "./listen-loopback.ts";

export interface HoldingProxy extends AsyncDisposable {
  readonly port: number;
  /** From now on keeps what clients send on the connections open now; later connections pass everything. */
  hold(): void;
  /** Bytes held since the last `hold`. */
  readonly heldBytes: number;
  /** Resolves once `bytes` are held since the last `hold`. */
  held(bytes: number): Promise<void>;
  /** Destroys every connection on both sides, and the bytes held with them: a cut both ends hear of. */
  dropAll(): void;
  /** Destroys the client's side of every holding connection: the client hears of a drop, the server does not. */
  dropClients(): void;
  /**
   * Passes on what is held to the server's sides that are still open, then ends those whose client
   * is gone. Resolves once the bytes are handed to the kernel (nothing is written to a side the
   * server closed meanwhile).
   */
  release(): Promise<void>;
}

interface Relayed {
  client: Socket;
  upstream: Socket;
  /** What the client sent since `hold`; undefined while the connection passes everything. */
  held: Buffer[] | undefined;
}

/** Starts a relay on 127.0.0.1, port 0, to `127.0.0.1:targetPort`. */
export async function startHoldingProxy(targetPort: number): Promise<HoldingProxy> {
  const relayed = new Set<Relayed>();
  let heldBytes = 0;
  const waiters = new Set<() => void>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    const pair: Relayed = { client, upstream, held: undefined };
    relayed.add(pair);
    for (const socket of [client, upstream]) socket.on("error", () => socket.destroy());
    // Read on even once the client is gone, so that a close from the server is heard.
    upstream.on("data", (chunk: Buffer) => void (client.destroyed || client.write(chunk)));
    client.on("data", (chunk: Buffer) => {
      if (!pair.held) return void upstream.write(chunk);
      pair.held.push(chunk);
      heldBytes += chunk.byteLength;
      for (const wake of [...waiters]) wake();
    });
    // A stalled relay tells the server nothing when its client goes away.
    client.on("close", () => {
      if (!pair.held) upstream.destroy();
    });
    upstream.on("close", () => {
      client.destroy();
      relayed.delete(pair);
    });
  });
  const port = await listenOnLoopback(server);
  return {
    port,
    hold() {
      heldBytes = 0;
      for (const pair of relayed) pair.held ??= [];
    },
    get heldBytes() {
      return heldBytes;
    },
    held(bytes) {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (heldBytes < bytes) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    dropAll() {
      for (const pair of relayed) {
        pair.held = undefined;
        pair.client.destroy();
        pair.upstream.destroy();
      }
    },
    dropClients() {
      for (const pair of relayed) if (pair.held) pair.client.destroy();
    },
    async release() {
      const written: Promise<void>[] = [];
      for (const pair of relayed) {
        const held = pair.held;
        if (!held) continue;
        pair.held = undefined;
        if (pair.upstream.destroyed) continue;
        written.push(new Promise<void>((resolve) => pair.upstream.write(Buffer.concat(held), () => resolve())));
        if (pair.client.destroyed) pair.upstream.end();
      }
      await Promise.all(written);
    },
    async [Symbol.asyncDispose]() {
      for (const pair of relayed) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
