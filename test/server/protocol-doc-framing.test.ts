// docs/PROTOCOL.md held against a real server: framing errors from raw WebSocket frames, the
// token's header, and the plain HTTP endpoints.
import { describe, expect, test } from "bun:test";
import { connect as tcpConnect } from "node:net";
import { connect } from "../helpers/client.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { TEST_TOKEN } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

/** One client frame, masked unless asked otherwise (RFC 6455, section 5.2). */
function rawFrame(opcode: number, payload: Uint8Array, options: { masked?: boolean; rsv?: number } = {}): Buffer {
  const masked = options.masked ?? true;
  const length = payload.byteLength;
  const header = length < 126 ? [0x80 | (options.rsv ?? 0) | opcode, (masked ? 0x80 : 0) | length] : [0x80 | (options.rsv ?? 0) | opcode, (masked ? 0x80 : 0) | 126, length >> 8, length & 0xff];
  const mask = [0x12, 0x34, 0x56, 0x78];
  const body = Buffer.from(payload.map((byte, index) => (masked ? byte ^ mask[index % 4]! : byte)));
  return Buffer.concat([Buffer.from(header), Buffer.from(masked ? mask : []), body]);
}

/** Upgrades a raw TCP connection, sends `bytes`, and resolves with the server's close frame. */
function closeAfterRawFrame(port: number, bytes: Buffer): Promise<{ code: number; reason: string } | "no close frame"> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    let buffered = Buffer.alloc(0);
    let upgraded = false;
    socket.on("data", (data) => {
      buffered = Buffer.concat([buffered, data as Buffer]);
      if (!upgraded) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        upgraded = true;
        buffered = buffered.subarray(end + 4);
        socket.write(bytes);
      }
      for (let at = 0; at + 2 <= buffered.length; ) {
        let length = buffered[at + 1]! & 0x7f;
        let start = at + 2;
        if (length === 126) [length, start] = [buffered.readUInt16BE(at + 2), at + 4];
        if (start + length > buffered.length) break;
        if ((buffered[at]! & 0x0f) === 0x8) {
          const payload = buffered.subarray(start, start + length);
          resolve({ code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() });
          socket.destroy();
          return;
        }
        at = start + length;
      }
    });
    socket.on("close", () => resolve("no close frame"));
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: bunker.v1\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n\r\n`,
    );
  });
}

describe.skipIf(noBwrap)("docs/PROTOCOL.md, framing and the upgrade", () => {
  const shared = useSharedServer();
  const text = (json: string) => new TextEncoder().encode(json);

  test("a text frame that is not UTF-8 closes with 1007, and frames that break RFC 6455 close with 1002", async () => {
    const port = shared.server.port;
    expect(await closeAfterRawFrame(port, rawFrame(0x1, Uint8Array.from([0x7b, 0xff, 0x7d])))).toEqual({ code: 1007, reason: "Received invalid UTF-8" });
    for (const bytes of [
      rawFrame(0x1, text('{"type":"list"}'), { masked: false }),
      rawFrame(0x3, new Uint8Array(1)),
      rawFrame(0x1, text('{"type":"list"}'), { rsv: 0x40 }),
      rawFrame(0x0, text("x")),
      rawFrame(0x9, new Uint8Array(126)),
    ]) {
      expect(await closeAfterRawFrame(port, bytes)).toMatchObject({ code: 1002, reason: expect.stringMatching(/^Received /) });
    }
  });

  test("/healthz and /metrics answer GET and HEAD, and other methods with 405 and Allow", async () => {
    const origin = `http://127.0.0.1:${shared.server.port}`;
    for (const path of ["/healthz", "/metrics"]) {
      const head = await fetch(`${origin}${path}`, { method: "HEAD", headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      expect(head.status).toBe(200);
      const post = await fetch(`${origin}${path}`, { method: "POST" });
      expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    }
  });

  test("a method /files/ does not take gets 405 with Allow, and its code in X-Bunker-Error like every other error", async () => {
    const response = await fetch(`http://127.0.0.1:${shared.server.port}/files/x?session=${shared.client.hello.session}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD, PUT");
    expect(response.headers.get("x-bunker-error")).toBe("bad_message");
    expect(await response.text()).toBe("bad_message: /files/ takes GET, HEAD and PUT\n");
  });

  test("the Bearer scheme is matched in any case, as HTTP auth schemes are, with the token trimmed", async () => {
    for (const authorization of [`Bearer ${TEST_TOKEN}`, `bearer ${TEST_TOKEN}`, `BEARER  ${TEST_TOKEN} `]) {
      await using client = await connect(shared.server, { token: undefined, headers: { authorization } });
      expect(client.hello.type).toBe("hello");
    }
  });
});
