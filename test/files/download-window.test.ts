// file.download with ackWindowBytes against a real server over a real WebSocket: at most a window
// sent and not acknowledged, acks that make room, acks that are refused, and cancel while waiting.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as connectClient } from "../../src/client/index.ts";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { patternedBytes } from "../helpers/patterned-bytes.ts";
import { roundTrip } from "../helpers/round-trip.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { replyOf, request } from "./helpers/real-session.ts";

type Chunk = Extract<ServerMessage, { type: "file.download.chunk" }>;

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server[Symbol.asyncDispose]();
});

/** Puts `bytes` at `path` in the client's workspace, as a command would. */
function place(client: TestClient, path: string, bytes: Uint8Array): void {
  writeFileSync(join(client.hello.workspace, path), bytes);
}

/** The chunks of `id` that arrive until `bytes` raw bytes have come, as `[offset, bytes]` pairs. */
async function receive(client: TestClient, id: string, bytes: number): Promise<[number, number][]> {
  const chunks: [number, number][] = [];
  for (let total = 0; total < bytes; ) {
    const chunk = await replyOf<Chunk>(client, id);
    expect(chunk.type).toBe("file.download.chunk");
    const length = Buffer.from(chunk.data, "base64").byteLength;
    chunks.push([chunk.offset, length]);
    total += length;
  }
  return chunks;
}

/** After a round trip on the socket, nothing more of `id` has come. */
async function expectNothingMore(client: TestClient, id: string): Promise<void> {
  await roundTrip(client);
  expect(client.takeQueued((message) => "id" in message && message.id === id)).toEqual([]);
}

test("with ackWindowBytes the server sends at most the window past the last ack, cutting chunks to the room left, and each ack lets that much more go", async () => {
  await using client = await connect(server);
  const size = 2 * 1024 * 1024;
  const data = patternedBytes(size, 3);
  place(client, "big.bin", data);
  const window = 600_000;
  expect(await request(client, { type: "file.download", id: "d", path: "big.bin", ackWindowBytes: window })).toEqual({
    type: "file.download.ready",
    id: "d",
    size,
    offset: 0,
    length: size,
    etag: expect.any(String),
    ackWindowBytes: window,
  });
  // 600,000 = 2 chunks of 256 KiB and 75,712 bytes: the third chunk is cut to the room left.
  expect(await receive(client, "d", window)).toEqual([
    [0, 262_144],
    [262_144, 262_144],
    [524_288, 75_712],
  ]);
  await expectNothingMore(client, "d");
  // An ack in the middle of a chunk makes room for exactly that many bytes more.
  client.send({ type: "file.download.ack", id: "d", offset: 300_000 });
  expect(await receive(client, "d", 300_000)).toEqual([
    [600_000, 262_144],
    [862_144, 37_856],
  ]);
  await expectNothingMore(client, "d");
  // The same offset again is no mistake, and makes no room.
  client.send({ type: "file.download.ack", id: "d", offset: 300_000 });
  await expectNothingMore(client, "d");
  // Acking everything as it comes takes the download to its end, byte for byte.
  const received: Buffer[] = [];
  let acked = 300_000;
  let position = 900_000;
  client.send({ type: "file.download.ack", id: "d", offset: position });
  for (;;) {
    const message = await replyOf(client, "d");
    if (message.type === "file.download.done") {
      expect(message).toEqual({ type: "file.download.done", id: "d", offset: size, bytes: size });
      break;
    }
    expect(message).toMatchObject({ type: "file.download.chunk", offset: position });
    const bytes = Buffer.from((message as Chunk).data, "base64");
    received.push(bytes);
    position += bytes.byteLength;
    acked = position;
    expect(position - 900_000).toBeLessThanOrEqual(size);
    client.send({ type: "file.download.ack", id: "d", offset: acked });
  }
  expect(Buffer.concat(received).equals(Buffer.from(data.subarray(900_000)))).toBe(true);
});

test("the window counts from the download's offset, and done comes without waiting for the last ack", async () => {
  await using client = await connect(server);
  place(client, "ten.txt", new TextEncoder().encode("0123456789"));
  expect(await request(client, { type: "file.download", id: "part", path: "ten.txt", offset: 2, ackWindowBytes: 3 })).toMatchObject({
    type: "file.download.ready",
    offset: 2,
    length: 8,
    ackWindowBytes: 3,
  });
  expect(await replyOf(client, "part")).toEqual({ type: "file.download.chunk", id: "part", offset: 2, data: Buffer.from("234").toString("base64") });
  await expectNothingMore(client, "part");
  client.send({ type: "file.download.ack", id: "part", offset: 5 });
  expect(await replyOf(client, "part")).toEqual({ type: "file.download.chunk", id: "part", offset: 5, data: Buffer.from("567").toString("base64") });
  client.send({ type: "file.download.ack", id: "part", offset: 7 });
  // Two bytes are left: they fit the room, and the end follows with nothing acknowledged past 7.
  expect(await replyOf(client, "part")).toEqual({ type: "file.download.chunk", id: "part", offset: 8, data: Buffer.from("89").toString("base64") });
  expect(await replyOf(client, "part")).toEqual({ type: "file.download.done", id: "part", offset: 10, bytes: 8 });
  // The client's ack of those last bytes crosses done on the wire: not a mistake, so no error.
  client.send({ type: "file.download.ack", id: "part", offset: 10 });
  await expectNothingMore(client, "part");
});

test("without ackWindowBytes a download is what it was: ready names no window, and the whole file comes without an ack", async () => {
  await using client = await connect(server);
  const size = 1024 * 1024 + 5;
  place(client, "free.bin", patternedBytes(size, 1));
  const ready = await request(client, { type: "file.download", id: "free", path: "free.bin" });
  expect(Object.keys(ready).sort()).toEqual(["etag", "id", "length", "offset", "size", "type"]);
  expect(await receive(client, "free", size)).toEqual([
    [0, 262_144],
    [262_144, 262_144],
    [524_288, 262_144],
    [786_432, 262_144],
    [1_048_576, 5],
  ]);
  expect(await replyOf(client, "free")).toEqual({ type: "file.download.done", id: "free", offset: size, bytes: size });
});

test("an ack past what was sent, below an earlier ack or before the start ends the download with bad_message saying which", async () => {
  await using client = await connect(server);
  place(client, "acks.bin", patternedBytes(10_000, 2));
  const open = async (id: string, extra: Record<string, unknown> = {}) => {
    expect(await request(client, { type: "file.download", id, path: "acks.bin", ackWindowBytes: 1000, ...extra })).toMatchObject({ type: "file.download.ready" });
    await receive(client, id, 1000);
  };
  const cases: [string, Record<string, unknown>, number[], string][] = [
    ["past", {}, [1001], "offset: 1001 is past 1000, the end of what the download has sent"],
    ["back", {}, [500, 400], "offset: 400 is below 500, which an earlier file.download.ack acknowledged"],
    ["before", { offset: 5000 }, [4999], "offset: 4999 is before 5000, where the download starts"],
  ];
  for (const [id, extra, offsets, problem] of cases) {
    await open(id, extra);
    for (const offset of offsets) client.send({ type: "file.download.ack", id, offset });
    // The acks before the bad one made room: chunks may come first, then the error ends it.
    let message = await replyOf(client, id);
    while (message.type === "file.download.chunk") message = await replyOf(client, id);
    expect(message).toEqual({ type: "error", id, code: "bad_message", message: problem });
    await expectNothingMore(client, id);
    // Ended: a late ack for it is ignored (one can cross the end on the wire), and its id is free.
    client.send({ type: "file.download.ack", id, offset: 0 });
    await expectNothingMore(client, id);
  }
});

test("an ack for no open download is unknown_transfer; one that breaks the schema is bad_message naming the field", async () => {
  await using client = await connect(server);
  expect(await request(client, { type: "file.download.ack", id: "nothing", offset: 0 })).toEqual({
    type: "error",
    id: "nothing",
    code: "unknown_transfer",
    message: 'no download with id "nothing" is open on this connection',
  });
  // An upload is not a download.
  expect(await request(client, { type: "file.upload", id: "up", path: "up.bin" })).toMatchObject({ type: "file.upload.ready" });
  expect(await request(client, { type: "file.download.ack", id: "up", offset: 0 })).toMatchObject({ type: "error", id: "up", code: "unknown_transfer" });
  const refusals: [Record<string, unknown>, string][] = [
    [{ type: "file.download.ack", id: "x", offset: -1 }, "offset: must be >= 0"],
    [{ type: "file.download.ack", id: "x", offset: 1.5 }, "offset: must be an integer"],
    [{ type: "file.download.ack", id: "x" }, "offset: is required"],
    [{ type: "file.download", id: "x", path: "f", ackWindowBytes: 0 }, "ackWindowBytes: must be >= 1"],
    [{ type: "file.download", id: "x", path: "f", ackWindowBytes: 64 * 1024 * 1024 + 1 }, "ackWindowBytes: must be <= 67108864"],
  ];
  for (const [message, problem] of refusals) {
    expect(await request(client, message as { type: string; id: string })).toEqual({ type: "error", id: "x", code: "bad_message", message: problem });
  }
});

test("a download waiting for an ack holds up nothing else on the connection, and cancel ends it with nothing after the result", async () => {
  await using client = await connect(server);
  place(client, "stall.bin", patternedBytes(1024 * 1024, 4));
  expect(await request(client, { type: "file.download", id: "stall", path: "stall.bin", ackWindowBytes: 100_000 })).toMatchObject({ type: "file.download.ready" });
  await receive(client, "stall", 100_000);
  await expectNothingMore(client, "stall");
  // File requests queued behind it and a second download go on while it waits.
  expect(await request(client, { type: "file.stat", id: "s", path: "stall.bin" })).toMatchObject({ type: "file.stat.result", entry: { size: 1024 * 1024 } });
  expect(await request(client, { type: "file.download", id: "other", path: "stall.bin", length: 10 })).toMatchObject({ type: "file.download.ready", length: 10 });
  expect(await replyOf(client, "other")).toMatchObject({ type: "file.download.chunk", offset: 0 });
  expect(await replyOf(client, "other")).toEqual({ type: "file.download.done", id: "other", offset: 10, bytes: 10 });
  expect(await request(client, { type: "file.cancel", id: "stall" })).toEqual({ type: "file.cancel.result", id: "stall" });
  // An ack now finds nothing to make room in: ignored, and nothing more of the download comes.
  client.send({ type: "file.download.ack", id: "stall", offset: 100_000 });
  await expectNothingMore(client, "stall");
  // The id is free again.
  expect(await request(client, { type: "file.download", id: "stall", path: "stall.bin", length: 3, ackWindowBytes: 100_000 })).toMatchObject({ type: "file.download.ready", length: 3 });
});

/**
 * A WebSocket class for the client library that checks the window on the wire: each chunk received
 * must end within `window` of the last ack the client had sent (the server may not have seen a later
 * one yet, never an earlier one). Nothing is kept of the chunks themselves.
 */
function createWindowWatch(window: number) {
  const filled = Promise.withResolvers<void>();
  /** `filled` settles once a whole window (or, wrongly, more) is out and unacknowledged. */
  const watch = { acks: 0, chunks: 0, mostUnacked: 0, overruns: [] as string[], filled: filled.promise };
  let acked = 0;
  class WatchedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      super.addEventListener("message", (event: MessageEvent) => {
        if (typeof event.data !== "string" || !event.data.startsWith('{"type":"file.download.chunk"')) return;
        const chunk = JSON.parse(event.data) as Chunk;
        const end = chunk.offset + Buffer.byteLength(chunk.data, "base64");
        watch.chunks++;
        watch.mostUnacked = Math.max(watch.mostUnacked, end - acked);
        if (end - acked > window) watch.overruns.push(`a chunk ending at ${end} with ${acked} acknowledged`);
        if (end - acked >= window) filled.resolve();
      });
    }
    override send(data: Parameters<WebSocket["send"]>[0]): void {
      if (typeof data === "string" && data.startsWith('{"type":"file.download.ack"')) {
        acked = (JSON.parse(data) as { offset: number }).offset;
        watch.acks++;
      }
      super.send(data);
    }
  }
  return { watch, WebSocket: WatchedWebSocket };
}

test("a 100 MiB download through the client with a slow loop arrives byte-exact, with never more than its window unacknowledged", async () => {
  // A window that is no multiple of the chunk size, so that chunks are cut to the room left.
  const window = 1_000_000;
  const { watch, WebSocket } = createWindowWatch(window);
  await using session = await connectClient(server.url, { token: server.token!, tokenVia: "subprotocol", WebSocket });
  const size = 100 * 1024 * 1024;
  const data = patternedBytes(size, 5);
  writeFileSync(join(session.workspace, "huge.bin"), data);
  const expected = new Bun.CryptoHasher("sha256").update(data).digest("hex");
  const hasher = new Bun.CryptoHasher("sha256");
  const download = session.files.download("huge.bin", { ackWindowBytes: window });
  let consumed = 0;
  let parts = 0;
  for await (const part of download) {
    hasher.update(part);
    consumed += part.byteLength;
    // The loop holds its first chunk until the server has sent a whole window, which it must
    // without any ack; then it is slow: a round trip to the server every fourth chunk.
    if (parts++ === 0) await watch.filled;
    else if (parts % 4 === 0) await session.files.stat("huge.bin");
  }
  expect(consumed).toBe(size);
  expect(hasher.digest("hex")).toBe(expected);
  expect(download.ready).toEqual({ size, offset: 0, length: size, etag: expect.any(String) });
  expect(watch.overruns).toEqual([]);
  // The client acked each quarter window or more, never more often.
  expect(watch.mostUnacked).toBe(window);
  expect(watch.acks).toBeGreaterThan(size / window);
  expect(watch.acks).toBeLessThanOrEqual(size / (window / 4));
  expect(watch.chunks).toBe(parts);
}, 60_000);
