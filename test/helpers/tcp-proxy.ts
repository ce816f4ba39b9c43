// A real proxy: node:net pipes apply backpressure both ways, so the proxy holds no more than its
// buffers, and a cut (dropAll) reaches both ends without a WebSocket close.
import { createServer, connect, type Socket } from "node:net";
import { listenOnLoopback } from "./listen-loopback.ts";

/** A TCP proxy in front of a server, whose connections a test can cut: a network drop on demand. */
export interface TcpProxy extends AsyncDisposable {
  readonly port: number;
  /** Destroys every connection through the proxy; new ones are accepted as before. */
  dropAll(): void;
  /**
   * From now on forwards nothing and closes nothing, as a relay stopped with SIGSTOP: the bytes
   * already in flight stay in the kernel's buffers, neither end hears of a close, and a new
   * connection is accepted (the kernel's backlog does that for a stopped process) and never answered.
   */
  freeze(): void;
  /**
   * While false, each new connection is destroyed as soon as it is accepted, as a network that is
   * down does to a client trying to reconnect; connections already through stay. Open at the start.
   */
  setOpen(open: boolean): void;
  /** The network goes down: `setOpen(false)`, then `dropAll()`. `setOpen(true)` brings it back. */
  cut(): void;
  /** Connections refused so far while closed. */
  readonly refused: number;
  /** New connections go to `127.0.0.1:port` from now on, as a balancer that sends a client to another server. */
  retarget(port: number): void;
}

/** Starts a proxy on 127.0.0.1, port 0, to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const freezers = new Set<() => void>();
  let frozen = false;
  let open = true;
  let refused = 0;
  let target = targetPort;
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
    if (frozen) {
      track(client);
      client.pause();
      return;
    }
    const upstream = connect(target, "127.0.0.1");
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => frozen || upstream.destroy());
    upstream.on("close", () => frozen || client.destroy());
    const freezeOne = () => {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    };
    freezers.add(freezeOne);
    client.on("close", () => freezers.delete(freezeOne));
  });
  const port = await listenOnLoopback(server);
  return {
    port,
    dropAll() {
      for (const socket of sockets) socket.destroy();
    },
    freeze() {
      frozen = true;
      for (const freezeOne of freezers) freezeOne();
    },
    setOpen(value) {
      open = value;
    },
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    get refused() {
      return refused;
    },
    retarget(port) {
      target = port;
    },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
