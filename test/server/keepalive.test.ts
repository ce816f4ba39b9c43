// Keepalive as docs/PROTOCOL.md states it: the server pings an idle connection before its idle
// timeout, and closes one that sends nothing at all, pongs included, at the timeout. A raw TCP
// client, since every WebSocket library answers pings on its own.
import { expect, test } from "bun:test";
import { connect as connectTcp, type Socket } from "node:net";
import { startServer, type TestServer } from "../helpers/server-process.ts";

const IDLE_TIMEOUT_SECONDS = 8;

/** A WebSocket opened over raw TCP: the opcodes of the server's frames as they come, and its end. */
interface RawSocket {
  socket: Socket;
  /** Resolves at the first frame of this opcode; undefined if the connection ends first. */
  frame(opcode: number): Promise<{ payload: Buffer } | undefined>;
  /** Resolves when the server ends the TCP connection, with whether it sent a close frame. */
  ended: Promise<{ closeFrame: boolean }>;
  /** Sends one masked frame. */
  send(opcode: number, payload: Buffer): void;
}

function openRaw(server: TestServer): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const waiters: { opcode: number; resolve: (frame: { payload: Buffer } | undefined) => void }[] = [];
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
      frame: (opcode) => new Promise((found) => waiters.push({ opcode, resolve: found })),
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
        }
        if (buffer.length < start + length) return;
        const payload = buffer.subarray(start, start + length);
        buffer = buffer.subarray(start + length);
        if (opcode === 0x8) closeFrame = true;
        for (const waiter of waiters.filter((w) => w.opcode === opcode)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve({ payload });
        }
      }
    });
    socket.on("close", () => {
      for (const waiter of waiters.splice(0)) waiter.resolve(undefined);
      ended.resolve({ closeFrame });
    });
    socket.on("error", () => {});
  });
}

test("an idle connection is pinged before the idle timeout; one that answers stays, one that sends nothing is closed at it without a close frame", async () => {
  await using server = await startServer({ args: ["--idle-timeout", `${IDLE_TIMEOUT_SECONDS}s`] });
  const silent = await openRaw(server);
  const answering = await openRaw(server);
  const startedAt = performance.now();
  // The answering socket pongs each ping, as every WebSocket library does.
  const pongAll = async () => {
    for (;;) {
      const ping = await answering.frame(0x9);
      if (!ping) return;
      answering.send(0xa, ping.payload);
    }
  };
  void pongAll();

  expect(await silent.frame(0x9)).toBeDefined();
  expect(performance.now() - startedAt).toBeLessThan(IDLE_TIMEOUT_SECONDS * 1000);
  expect(await silent.ended).toEqual({ closeFrame: false });

  // Past the idle timeout, by another ping's worth, the socket that pongs is still open.
  const secondPing = await answering.frame(0x9);
  expect(secondPing).toBeDefined();
  expect(await answering.frame(0x9)).toBeDefined();
  expect(performance.now() - startedAt).toBeGreaterThan(IDLE_TIMEOUT_SECONDS * 1000);
  expect(answering.socket.destroyed).toBe(false);
  answering.socket.destroy();
}, 30_000);
