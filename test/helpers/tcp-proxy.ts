import type { Socket, TCPSocketListener } from "bun";

/** A TCP forwarder in the test process, so that a test can cut a connection for real (no close frame). */
export interface TcpProxy extends Disposable {
  readonly port: number;
  /** Cuts every open connection at once, both sides, without a WebSocket close. */
  dropAll(): void;
}

interface Side {
  peer?: Socket<Side>;
  /** Bytes for this socket that it could not take yet. */
  queue: Uint8Array[];
}

/**
 * Writes what the socket takes now and queues the rest for its drain. While anything is queued the
 * sending side stops reading, as a real proxy does, so that the proxy holds no more than a chunk.
 */
function send(socket: Socket<Side>, data: Uint8Array, from: Socket<Side>): void {
  if (socket.data.queue.length > 0) {
    socket.data.queue.push(new Uint8Array(data));
    from.pause();
    return;
  }
  const written = socket.write(data);
  if (written < data.byteLength) {
    socket.data.queue.push(new Uint8Array(data.subarray(Math.max(0, written))));
    from.pause();
  }
}

function drain(socket: Socket<Side>): void {
  const queue = socket.data.queue;
  while (queue.length > 0) {
    const chunk = queue[0]!;
    const written = socket.write(chunk);
    if (written < chunk.byteLength) {
      queue[0] = chunk.subarray(Math.max(0, written));
      return;
    }
    queue.shift();
  }
  socket.data.peer?.resume();
}

/** Forwards 127.0.0.1:<port> to 127.0.0.1:<targetPort>. */
export function startTcpProxy(targetPort: number): TcpProxy {
  const open = new Set<Socket<Side>>();
  const listener: TCPSocketListener<Side> = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        client.data = { queue: [] };
        open.add(client);
        void Bun.connect<Side>({
          hostname: "127.0.0.1",
          port: targetPort,
          socket: {
            open(upstream) {
              upstream.data = { peer: client, queue: upstream.data?.queue ?? [] };
              client.data.peer = upstream;
              open.add(upstream);
              // What the client sent before the upstream was ready waited in the upstream's queue slot.
              for (const chunk of (client.data as Side & { early?: Uint8Array[] }).early?.splice(0) ?? []) send(upstream, chunk, client);
            },
            data(upstream, data) {
              if (upstream.data.peer) send(upstream.data.peer, data, upstream);
            },
            drain,
            close(upstream) {
              open.delete(upstream);
              upstream.data.peer?.end();
            },
          },
        });
      },
      data(client, data) {
        if (client.data.peer) return send(client.data.peer, data, client);
        const early = ((client.data as Side & { early?: Uint8Array[] }).early ??= []);
        early.push(new Uint8Array(data));
      },
      drain,
      close(client) {
        open.delete(client);
        client.data.peer?.end();
      },
    },
  });
  return {
    port: listener.port,
    dropAll() {
      for (const socket of [...open]) socket.terminate();
    },
    [Symbol.dispose]() {
      this.dropAll();
      listener.stop(true);
    },
  };
}
