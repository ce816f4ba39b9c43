// Keepalive as docs/PROTOCOL.md states it: the server pings an idle connection before its idle
// timeout, and closes one that sends nothing at all, pongs included, at the timeout. A raw TCP
// client, since every WebSocket library answers pings on its own.
import { expect, test } from "bun:test";
import { connect as connectTcp, type Socket } from "node:net";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { connect } from "../helpers/client.ts";

const IDLE_TIMEOUT_SECONDS = 8;

/** A WebSocket opened over raw TCP: the opcodes of the server's frames as they come, and its end. */
interface RawSocket {
  socket: Socket;
  /** The next frame of this opcode not yet taken, waiting for it; undefined if the connection ends first. */
  frame(opcode: number): Promise<{ payload: Buffer } | undefined>;
  /** Resolves when the server ends the TCP connection, with whether it sent a close frame. */
  ended: Promise<{ closeFrame: boolean }>;
  /** Sends one masked frame. */
  send(opcode: number, payload: Buffer): void;
}

function openRaw(server: TestServer): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const waiters: { opcode: number; resolve: (frame: { payload: Buffer } | undefined) => void }[] = [];
    const unclaimed: { opcode: number; payload: Buffer }[] = [];
    let closed = false;
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    let closeFrame = false;
    const ended = Promise.withResolvers<{ closeFrame: boolean }>();
    const socket = connectTcp(server.port, "127.0.0.1", () => {
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${server.token}\r\n\r\n`,
      );
    });
    const raw: RawSocket = {
      socket,
      frame: (opcode) => {
        const index = unclaimed.findIndex((frame) => frame.opcode === opcode);
        if (index >= 0) return Promise.resolve({ payload: unclaimed.splice(index, 1)[0]!.payload });
        if (closed) return Promise.resolve(undefined);
        return new Promise((found) => waiters.push({ opcode, resolve: found }));
      },
      ended: ended.promise,
      send(opcode, payload) {
        const key = Buffer.from([1, 2, 3, 4]);
        const masked = Buffer.from(payload.map((byte, index) => byte ^ key[index % 4]!));
        socket.write(Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), key, masked]));
      },
    };
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!buffer.subarray(0, end).toString().startsWith("HTTP/1.1 101")) return reject(new Error(buffer.toString()));
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        resolve(raw);
      }
      // Server frames are unmasked; the ones here are short (hello is the longest, under 64 KiB).
      while (buffer.length >= 2) {
        const opcode = buffer[0]! & 0x0f;
        let length = buffer[1]! & 0x7f;
        let start = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          start = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          start = 10;
        }
        if (buffer.length < start + length) return;
        const payload = buffer.subarray(start, start + length);
        buffer = buffer.subarray(start + length);
        if (opcode === 0x8) closeFrame = true;
        const waiter = waiters.find((w) => w.opcode === opcode);
        if (waiter) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve({ payload });
        } else {
          unclaimed.push({ opcode, payload });
        }
      }
    });
    socket.on("close", () => {
      closed = true;
      for (const waiter of waiters.splice(0)) waiter.resolve(undefined);
      ended.resolve({ closeFrame });
    });
    socket.on("error", () => {});
  });
}

/** A command that prints every 200 ms for longer than the test: output flows to its socket throughout. */
const CHATTY = JSON.stringify({ type: "exec", id: "chatty", cmd: "while :; do echo x; sleep 0.2; done" });

test("an idle connection is pinged before the idle timeout; one that answers stays, one that sends nothing is closed at it without a close frame, output flowing to it or not", async () => {
  await using server = await startServer({ args: ["--idle-timeout", `${IDLE_TIMEOUT_SECONDS}s`] });
  // Before the first socket opens: its idle time starts with it, and the server closed it 5 ms
  // short of eight seconds after a clock started once all three were open (a fresh-clone run).
  const startedAt = performance.now();
  const silent = await openRaw(server);
  // Sends its exec, then nothing, not even a pong: a peer gone without a FIN. Bun's own idle timer
  // restarts on every send, so output flowing to it kept it open for good.
  const silentBusy = await openRaw(server);
  silentBusy.send(0x1, Buffer.from(CHATTY));
  const answering = await openRaw(server);
  answering.send(0x1, Buffer.from(CHATTY));
  // The answering socket pongs each ping, as every WebSocket library does.
  let pinged = 0;
  const pongAll = async () => {
    for (;;) {
      const ping = await answering.frame(0x9);
      if (!ping) return;
      pinged++;
      answering.send(0xa, ping.payload);
    }
  };
  void pongAll();

  expect(await silent.frame(0x9)).toBeDefined();
  expect(performance.now() - startedAt).toBeLessThan(IDLE_TIMEOUT_SECONDS * 1000);
  expect(await silent.ended).toEqual({ closeFrame: false });
  expect(await silentBusy.frame(0x9)).toBeDefined();
  expect(await silentBusy.ended).toEqual({ closeFrame: false });
  // The server let it go while output still flowed to the socket that stayed.
  expect(await answering.frame(0x1)).toBeDefined();

  // Past the idle timeout, the socket that pongs is alive: it was pinged, and a ping of the
  // protocol's own sent now is answered (the sweep that let the others go would have taken it too).
  expect(performance.now() - startedAt).toBeGreaterThan(IDLE_TIMEOUT_SECONDS * 1000);
  expect(pinged).toBeGreaterThan(0);
  answering.send(0x1, Buffer.from(JSON.stringify({ type: "ping", id: "alive" })));
  for (;;) {
    const text = await answering.frame(0x1);
    expect(text).toBeDefined();
    if (text!.payload.toString().includes('"type":"pong"')) break;
  }
  answering.socket.destroy();
}, 30_000);

test("ping is answered at once with pong, its id echoed, even while a command runs", async () => {
  await using server = await startServer();
  await using client = await connect(server);
  client.send({ type: "exec", id: "busy", cmd: "sleep 5" });
  await client.next((message) => message.type === "started");
  client.send({ type: "ping", id: "p1" });
  expect(await client.next((message) => message.type === "pong")).toEqual({ type: "pong", id: "p1" });
  client.send({ type: "ping" });
  expect(await client.next((message) => message.type === "pong")).toEqual({ type: "pong" });
  client.send({ type: "ping", id: "" });
  expect(await client.next((message) => message.type === "error")).toMatchObject({ code: "bad_message", message: "id: must be 1 to 64 characters" });
});

