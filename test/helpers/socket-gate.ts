// A relay in front of the server that cuts the page's WebSockets and refuses new ones while closed,
// but always passes its HTTP requests: the page can be reloaded while it cannot reach the server's
// sessions. test/helpers/tcp-proxy.ts refuses every connection, and a page that cannot load cannot
// be reloaded; page.route() serving the page instead makes Chromium block its sockets to 127.0.0.1
// (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS).
import { connect, createServer, type Socket } from "node:net";
import { listenOnLoopback } from "./listen-loopback.ts";

export interface SocketGate extends AsyncDisposable {
  readonly port: number;
  /** Destroys every WebSocket through the gate (frozen ones too), and each new one as soon as it is asked for. */
  close(): void;
  /** Lets WebSockets through again. */
  open(): void;
  /**
   * Makes the WebSockets through the gate dead without closing them: every byte either way is
   * dropped from now on, and no end reaches either side, as when a network goes away without a
   * word. New sockets pass as usual.
   */
  freeze(): void;
}

/** A WebSocket upgrade of the page: its request line asks for the socket's path. */
function isSocketRequest(head: Buffer): boolean {
  return /^GET \/ws[? ]/.test(head.toString("latin1", 0, 16));
}

/** Starts a gate on 127.0.0.1, port 0, to `127.0.0.1:targetPort`; open at the start. */
export async function startSocketGate(targetPort: number): Promise<SocketGate> {
  const all = new Set<Socket>();
  /** The page's WebSockets, each with the socket to the server it is piped to. */
  const sockets = new Map<Socket, Socket>();
  /** Sockets that freeze() made dead, each pair as it was: close() still ends them. */
  const frozen = new Map<Socket, Socket>();
  let open = true;
  const track = (socket: Socket, set: Set<Socket>) => {
    set.add(socket);
    socket.on("close", () => set.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client, all);
    // A request's first line comes in its first bytes.
    client.once("data", (head: Buffer) => {
      const socket = isSocketRequest(head);
      if (socket && !open) return void client.destroy();
      const upstream = connect(targetPort, "127.0.0.1");
      track(upstream, all);
      if (socket) {
        sockets.set(client, upstream);
        client.on("close", () => sockets.delete(client));
      }
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  });
  const port = await listenOnLoopback(server);
  return {
    port,
    close() {
      open = false;
      for (const socket of sockets.keys()) socket.destroy();
      for (const [client, upstream] of frozen) {
        client.destroy();
        upstream.destroy();
      }
      frozen.clear();
    },
    open() {
      open = true;
    },
    freeze() {
      for (const [client, upstream] of sockets) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Read on and drop: a paused socket would push back on its sender, which a dead network does not.
        client.on("data", () => {});
        upstream.on("data", () => {});
        // Their ends no longer reach the other side either.
        client.removeAllListeners("close");
        upstream.removeAllListeners("close");
        sockets.delete(client);
        frozen.set(client, upstream);
      }
    },
    async [Symbol.asyncDispose]() {
      for (const socket of all) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
