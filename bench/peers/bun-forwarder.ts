/**
 * The floor under bunker's streaming: a bare Bun.serve that, for each connection, runs one command
 * and forwards every read of its stdout as one binary frame, with the same backpressure bunker
 * applies (wait above 1 MiB queued, go on below 256 KiB), then closes. No protocol, no log, no
 * sessions: what Bun itself costs. Usage: bun bun-forwarder.ts <spec as JSON>; prints its port.
 */
import { HIGH_WATER_BYTES, LOW_WATER_BYTES } from "../../src/server/connection-sink.ts";

interface ForwarderSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  runAs?: { uid: number; gid: number } | undefined;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as ForwarderSpec;

interface Connection {
  drained?: () => void;
}

const server = Bun.serve<Connection>({
  hostname: "127.0.0.1",
  port: 0,
  fetch(request, server) {
    return server.upgrade(request, { data: {} }) ? undefined : new Response("WebSocket only\n", { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    async open(ws) {
      const proc = Bun.spawn(spec.argv, {
        cwd: spec.cwd,
        env: spec.env,
        stdio: ["ignore", "pipe", "ignore"],
        ...(spec.runAs && { uid: spec.runAs.uid, gid: spec.runAs.gid }),
      });
      for await (const chunk of proc.stdout) {
        const status = ws.sendBinary(chunk);
        if (status === -1 || ws.getBufferedAmount() > HIGH_WATER_BYTES) {
          await new Promise<void>((resolve) => {
            ws.data.drained = resolve;
          });
        }
      }
      await proc.exited;
      ws.close(1000, "done");
    },
    drain(ws) {
      if (ws.data.drained && ws.getBufferedAmount() < LOW_WATER_BYTES) {
        const drained = ws.data.drained;
        ws.data.drained = undefined;
        drained();
      }
    },
    message() {},
  },
});
process.stdout.write(`${server.port}\n`);
