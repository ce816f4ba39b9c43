// The client library under Node 20 with `ws` (node/liveness.node.mjs), built as build-client.ts
// builds it: what differs from Bun there is the WebSocket class (`ws` terminates, Bun's client
// too), the event loop (timers run before sockets' reads after a long task), timers that keep a
// process alive unless unref'd, and the base64 path (no ES2025 codec, so Buffer).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, startServer } from "../helpers/server-process.ts";
import { bundleNodeClient } from "../helpers/node-client-bundle.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";

const server = await startServer();
const bundleDir = mkdtempSync(join(tmpdir(), "bunker-client-node-"));
afterAll(async () => {
  await server[Symbol.asyncDispose]();
  rmSync(bundleDir, { recursive: true, force: true });
});

beforeAll(() => bundleNodeClient(bundleDir, ["node.ts", "base64.ts"]));

/**
 * Runs one case of liveness.node.mjs under node (or bun); `onEvent` sees each JSON line as it comes. Resolves
 * with the last line once the process has exited by itself, and fails when it exits non-zero.
 */
async function runNodeCase(name: string, url: string, onEvent: (event: Record<string, unknown>) => void = () => {}, runtime: "node" | "bun" = "node") {
  const script = join(import.meta.dir, "node", "liveness.node.mjs");
  const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", BUNKER_CLIENT_DIR: bundleDir, BUNKER_URL: url, BUNKER_TOKEN: server.token! };
  const proc = Bun.spawn(runtime === "node" ? ["node", script, name] : [process.execPath, script, name], {
    env: runtime === "node" ? env : { ...env, BUNKER_CLIENT_MODULE: join(REPO_ROOT, "src", "client", "index.ts") },
    stdout: "pipe",
    stderr: "pipe",
  });
  let last: Record<string, unknown> = {};
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
      last = JSON.parse(pending.slice(0, end));
      pending = pending.slice(end + 1);
      onEvent(last);
    }
  }
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`node exited ${code}: ${stderr}`);
  return last;
}

test("a relay frozen mid-command: the keepalive terminates the socket, closed and exited settle as after a drop, and node exits", async () => {
  await using proxy = await startTcpProxy(server.port);
  const result = await runNodeCase("frozen", `ws://127.0.0.1:${proxy.port}/ws`, (event) => event["event"] === "ready" && proxy.freeze());
  expect(result).toEqual({ event: "settled", closed: { code: 1006, reason: "keepalive: no message within 1000 ms of a ping" }, exited: "connection_closed" });
}, 20_000);

test("connect gives up on a listener that never answers the upgrade with connect_failed, and node exits", async () => {
  const sockets: Socket[] = [];
  const listener = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  try {
    const url = `ws://127.0.0.1:${(listener.address() as { port: number }).port}/ws`;
    const result = await runNodeCase("silent", url);
    expect(result).toMatchObject({ connect: { code: "connect_failed", message: `could not connect to ${url}: the WebSocket did not open within 300 ms (connectTimeoutMs)` } });
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
}, 20_000);

/**
 * A relay that hands each chunk from the server to the client `delayMs` late: a network with some
 * latency, so that an answer can arrive while the client's event loop is blocked. It runs here, in
 * another process than the client, whose blocked loop must not hold it up.
 */
async function startDelayingRelay(targetPort: number, delayMs: number) {
  const sockets = new Set<Socket>();
  const relay = createServer((client) => {
    const upstream = createConnection(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
    }
    client.pipe(upstream);
    upstream.on("data", (chunk) => setTimeout(() => client.write(chunk), delayMs));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  return {
    url: `ws://127.0.0.1:${(relay.address() as { port: number }).port}/ws`,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  };
}

// Node runs expired timers before it reads sockets: the keepalive's timer fired first, found no
// frame, and dropped a connection whose answer sat unread in the socket.
test("an event loop blocked past the timeout right after a ping does not take the answer waiting in the socket for silence", async () => {
  await using relay = await startDelayingRelay(server.port, 100);
  expect(await runNodeCase("busy", relay.url)).toEqual({ event: "settled", exited: 0, pings: expect.any(Number) });
}, 20_000);

test.each(["node", "bun"] as const)("no timer of the client keeps %s alive after close, disconnect or a refused connect, however long its timeouts", async (runtime) => {
  expect(await runNodeCase("done", server.url, undefined, runtime)).toEqual({ event: "settled", refused: "connect_failed" });
}, 20_000);

test("node encodes and decodes base64 with Buffer, byte for byte, into plain Uint8Arrays that own their memory", async () => {
  expect(await runNodeCase("base64", server.url)).toEqual({ event: "settled", codec: "buffer", exact: true, smallOwnsItsBuffer: true, refusesBase64Url: true });
});
