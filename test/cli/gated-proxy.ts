// test/helpers/tcp-proxy.ts with a gate: while closed, new connections are accepted and dropped at
// once, as a network that is down does to a client trying to reconnect.
import { connect, createServer, type Socket } from "node:net";

/** A TCP proxy whose connections a test can cut, and whose new connections it can refuse. */
export interface GatedProxy extends AsyncDisposable {
  readonly port: number;
  /** Destroys every connection through the proxy. */
  dropAll(): void;
  /** While false, each new connection is destroyed as soon as it is accepted. */
  setOpen(open: boolean): void;
  /** Connections refused so far while closed. */
  readonly refused: number;
}

/** Starts a proxy on 127.0.0.1, port 0, to `127.0.0.1:targetPort`, open. */
export async function startGatedProxy(targetPort: number): Promise<GatedProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  let refused = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = createServer((client) => {
    if (!open) {
      refused++;
      client.on("error", () => {});
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no TCP address");
  return {
    port: address.port,
    dropAll() {
      for (const socket of sockets) socket.destroy();
    },
    setOpen(value) {
      open = value;
    },
    get refused() {
      return refused;
    },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
