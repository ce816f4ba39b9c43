// Liveness under Bun's WebSocket, against a real server through a real TCP relay: a relay that
// freezes (as one stopped with SIGSTOP) must not leave a session, an exec or `connect` pending
// forever, and a connection that is only quiet must never be taken for dead.
import { afterAll, describe, expect, test } from "bun:test";
import { createServer, type Socket } from "node:net";
import { connect } from "../../src/client/index.ts";
import { settled } from "../helpers/settled.ts";
import { startServer } from "../helpers/server-process.ts";
import { createWireTap } from "../helpers/tapped-websocket.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { readUntil } from "../helpers/read-until.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

/** Short enough for a test, long enough for a loaded machine to answer a ping in time. */
const KEEPALIVE = { idleMs: 200, timeoutMs: 1000 };


/** A TCP listener that accepts and never says a byte; `clientLetGo` resolves once the client has closed its connection. */
async function startSilentListener() {
  let accepted: (socket: Socket) => void;
  const firstConnection = new Promise<Socket>((resolve) => (accepted = resolve));
  const listener = createServer((socket) => accepted(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    clientLetGo: firstConnection.then((socket) => new Promise<void>((resolve) => socket.on("close", () => resolve()).resume())),
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => listener.close(() => resolve())),
  };
}

describe("connectTimeoutMs", () => {
  test("connect rejects with connect_failed when the listener accepts TCP and never answers the upgrade, and lets go of the socket", async () => {
    await using listener = await startSilentListener();
    const error = await connect(listener.url, { connectTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "BunkerError", code: "connect_failed", message: `could not connect to ${listener.url}: the WebSocket did not open within 300 ms (connectTimeoutMs)` });
    await listener.clientLetGo;
  });

  test("connect rejects with connect_failed when the upgrade is answered but hello never comes", async () => {
    using silent = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request, bunServer) => (bunServer.upgrade(request, { headers: { "sec-websocket-protocol": "bunker.v1" } }) ? undefined : new Response("no", { status: 400 })),
      websocket: { message() {} },
    });
    const url = `ws://127.0.0.1:${silent.port}/ws`;
    const error = await connect(url, { connectTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "connect_failed", message: `could not connect to ${url}: the WebSocket opened but no hello came within 300 ms (connectTimeoutMs)` });
  });

  test("a connection frozen before hello is given up on at the timeout", async () => {
    await using proxy = await startTcpProxy(server.port);
    proxy.freeze();
    const result = await settled(connect(`ws://127.0.0.1:${proxy.port}/ws`, { token: server.token!, connectTimeoutMs: 300 }));
    expect(result).toEqual({ code: "connect_failed" });
  });
});

describe("keepalive", () => {
  test("a relay frozen mid-command: closed, exited and the stdout loop settle with connection_closed, and a resume finds the exec still running", async () => {
    await using proxy = await startTcpProxy(server.port);
    const session = await connect(`ws://127.0.0.1:${proxy.port}/ws`, { token: server.token!, keepalive: KEEPALIVE });
    const sleeper = session.exec(["sh", "-c", "echo ready; exec sleep 100"], { id: "frozen" });
    const stdout = sleeper.stdout[Symbol.asyncIterator]();
    await readUntil(stdout, "ready\n");
    proxy.freeze();

    expect(await session.closed).toEqual({ code: 1006, reason: `keepalive: no message within ${KEEPALIVE.timeoutMs} ms of a ping` });
    expect(await settled(sleeper.exited)).toEqual({ code: "connection_closed" });
    expect(await settled(stdout.next())).toEqual({ code: "connection_closed" });
    expect(await settled(session.list())).toEqual({ code: "connection_closed" });

    // What a caller does after a drop works as after any other drop.
    const again = await connect(server.url, { token: server.token!, resume: session.resume });
    expect(again.hello.execs.find((exec) => exec.id === "frozen")?.state).toBe("running");
    const rest = again.attach("frozen", { stdout: sleeper.stdout.offset });
    expect(rest.signal("SIGKILL")).toBe(true);
    expect(await rest.exited).toMatchObject({ signal: "SIGKILL" });
    await again.close();
  });

  test("close() over a relay that froze resolves once the keepalive gives up, rather than wait for a `closed` that cannot come", async () => {
    await using proxy = await startTcpProxy(server.port);
    const session = await connect(`ws://127.0.0.1:${proxy.port}/ws`, { token: server.token!, keepalive: KEEPALIVE });
    proxy.freeze();
    await session.close();
    expect(await session.closed).toEqual({ code: 1006, reason: `keepalive: no message within ${KEEPALIVE.timeoutMs} ms of a ping` });
  });

  test("a quiet connection that answers pings stays open through silences longer than idleMs and timeoutMs together", async () => {
    const tap = createWireTap();
    await using session = await connect(server.url, { token: server.token!, tokenVia: "subprotocol", WebSocket: tap.WebSocket, keepalive: KEEPALIVE });
    const quiet = session.exec(["sleep", String((3 * (KEEPALIVE.idleMs + KEEPALIVE.timeoutMs)) / 1000)]);
    expect(await quiet.exited).toMatchObject({ code: 0, reason: "exited" });
    const pings = tap.sent.filter((message) => message["type"] === "ping");
    expect(pings.length).toBeGreaterThanOrEqual(2);
    // Each ping has an id, so that a server without `ping` answers with an error nobody else takes.
    for (const ping of pings) expect(ping).toEqual({ type: "ping", id: expect.any(String) });
    expect(tap.received.filter((message) => message["type"] === "pong").map((pong) => pong["id"])).toEqual(
      expect.arrayContaining(pings.slice(0, -1).map((ping) => ping["id"])),
    );
  });

  test("a reader that leaves an exec's ack window full for long is not taken for dead, and then gets every byte", async () => {
    await using session = await connect(server.url, { token: server.token!, keepalive: KEEPALIVE });
    const bytes = 4 * 1024 * 1024;
    const flood = session.exec(["head", "-c", String(bytes), "/dev/zero"], { ackWindowBytes: 64 * 1024 });
    // Nothing reads the flood while this runs: the server holds it back, and the socket is silent.
    const wait = session.exec(["sleep", String((3 * (KEEPALIVE.idleMs + KEEPALIVE.timeoutMs)) / 1000)]);
    expect(await wait.exited).toMatchObject({ code: 0 });
    expect((await flood.stdout.readAll()).byteLength).toBe(bytes);
    expect(await flood.exited).toMatchObject({ code: 0 });
  });
});
