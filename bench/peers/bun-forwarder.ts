/**
 * The floor under bunker's streaming: a bare Bun.serve that, for each connection, runs one command
 * and forwards every read of its stdout as one binary frame, with the same backpressure bunker
 * applies (wait above 1 MiB queued, go on below 256 KiB), then closes. No protocol, no log, no
 * sessions: what Bun itself costs. Usage: bun bun-forwarder.ts <spec as JSON>; prints its port.
 * With `encoding: "base64"` each read goes out instead as bunker's JSON `output` messages (at most
 * 64 KiB of raw bytes each, base64), then an `exit`: what Bun costs to stream text.
 */
import { HIGH_WATER_BYTES, LOW_WATER_BYTES } from "../../src/server/connection-sink.ts";
import { MAX_MESSAGE_BYTES } from "../../src/server/subscription.ts";

interface ForwarderSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  runAs?: { uid: number; gid: number } | undefined;
  encoding?: "binary" | "base64";
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
      const waitForDrain = () =>
        new Promise<void>((resolve) => {
          ws.data.drained = resolve;
        });
      let offset = 0;
      for await (const chunk of proc.stdout) {
        if (spec.encoding === "base64") {
          for (let start = 0; start < chunk.byteLength; start += MAX_MESSAGE_BYTES) {
            const piece = chunk.subarray(start, start + MAX_MESSAGE_BYTES);
            const data = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).toString("base64");
            const status = ws.send(`{"type":"output","id":"big","stream":"stdout","offset":${offset},"data":"${data}"}`);
            offset += piece.byteLength;
            if (status === -1 || ws.getBufferedAmount() > HIGH_WATER_BYTES) await waitForDrain();
          }
          continue;
        }
        const status = ws.sendBinary(chunk);
        if (status === -1 || ws.getBufferedAmount() > HIGH_WATER_BYTES) await waitForDrain();
      }
      const code = await proc.exited;
      if (spec.encoding === "base64") ws.send(JSON.stringify({ type: "exit", id: "big", code, signal: null, reason: "exited" }));
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
