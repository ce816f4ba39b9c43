// The client library's uploads, downloads and watches when things go wrong mid-way, and several at
// once on one session: every promise settles, with the server's code or the connection's.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { BunkerError, connect, type Session } from "../../src/client/index.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { createWireTap } from "../helpers/tapped-websocket.ts";
import { patternedBytes } from "../helpers/patterned-bytes.ts";
import { settled } from "../helpers/settled.ts";

let server: TestServer;
/** A server whose workspaces hold at most 1 MiB through the file API. */
let quotaServer: TestServer;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  [server, quotaServer] = await Promise.all([startServer(), startServer({ args: ["--workspace-quota-bytes", String(1024 * 1024)] })]);
});
afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await Promise.all([server[Symbol.asyncDispose](), quotaServer[Symbol.asyncDispose]()]);
});

async function* inPieces(data: Uint8Array, pieceBytes: number): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < data.byteLength; start += pieceBytes) yield data.subarray(start, start + pieceBytes);
}

test("an upload the server refuses at a chunk (quota_exceeded) rejects with that code, and its chunks in flight raise no other error", async () => {
  const errors: BunkerError[] = [];
  await using session = await connect(quotaServer.url, { token: quotaServer.token!, onError: (error) => errors.push(error) });
  // No size up front, so the quota is found exceeded at a chunk. The source has all its bytes at
  // once, so the client sends a window's worth of chunks before it can see the server's refusal.
  const source = (async function* () {
    yield patternedBytes(6 * 1024 * 1024);
  })();
  expect(await settled(session.files.upload("big.bin", source))).toEqual({ code: "quota_exceeded" });
  // The session goes on; by then every late reply to the upload's chunks has arrived.
  expect(await session.files.exists("big.bin")).toBe(false);
  expect(errors.map((error) => `${error.code}: ${error.message}`)).toEqual([]);
  expect(unhandled).toEqual([]);
});

test("an upload whose source is waiting rejects with connection_closed as soon as the socket drops", async () => {
  const tap = createWireTap();
  const session = await connect(server.url, { token: server.token!, tokenVia: "subprotocol", WebSocket: tap.WebSocket });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  async function* source() {
    yield patternedBytes(300 * 1024);
    await gate;
    yield patternedBytes(10);
  }
  const upload = settled(session.files.upload("stalled.bin", source()));
  await tap.until("sent", (message) => message["type"] === "file.upload.chunk");
  // disconnect() resolves once the close has been handled: a turn of the event loop later, the
  // upload must have settled (it used to wait for the source's next chunk, here forever).
  await session.disconnect();
  const pending = new Promise((resolve) => setImmediate(() => resolve("still pending")));
  try {
    expect(await Promise.race([upload, pending])).toEqual({ code: "connection_closed" });
  } finally {
    release();
  }
});

test("an upload, a download and a watch running at once all end with connection_closed when the socket drops", async () => {
  const tap = createWireTap();
  const session = await connect(server.url, { token: server.token!, tokenVia: "subprotocol", WebSocket: tap.WebSocket });
  await session.files.upload("drop/src.bin", patternedBytes(8 * 1024 * 1024));
  const watch = await session.files.watch("drop");
  const watching = (async () => {
    for await (const _event of watch);
  })();
  const downloading = (async () => {
    let bytes = 0;
    for await (const part of session.files.download("drop/src.bin")) bytes += part.byteLength;
    return bytes;
  })();
  const uploading = session.files.upload("drop/up.bin", patternedBytes(20 * 1024 * 1024));
  await Promise.all([
    tap.until("received", (message) => message["type"] === "file.download.chunk"),
    tap.until("received", (message) => message["type"] === "file.upload.ack"),
  ]);
  await session.disconnect();
  expect({ watch: await settled(watching), download: await settled(downloading), upload: await settled(uploading), close: await settled(watch.close()) }).toEqual({
    watch: { code: "connection_closed" },
    download: { code: "connection_closed" },
    upload: { code: "connection_closed" },
    close: { value: undefined },
  });
  expect(unhandled).toEqual([]);
});

test("several uploads and downloads at once on one session each arrive byte-exact", async () => {
  await using session: Session = await connect(server.url, { token: server.token! });
  const datas = [0, 1, 2, 3].map((seed) => patternedBytes(2 * 1024 * 1024 + seed * 100_003, seed));
  await Promise.all(datas.map((data, index) => session.files.upload(`many/${index}.bin`, index % 2 ? data : inPieces(data, 77_777))));
  const read = async (path: string) => {
    const parts: Uint8Array[] = [];
    for await (const part of session.files.download(path)) parts.push(part);
    return Buffer.concat(parts);
  };
  const back = await Promise.all([...datas.map((_, index) => read(`many/${index}.bin`)), ...datas.map((_, index) => session.files.readBytes(`many/${index}.bin`))]);
  expect(back.map((bytes, index) => Buffer.from(bytes).equals(Buffer.from(datas[index % 4]!)))).toEqual(Array(8).fill(true));
});

test("breaking out of a watch loop ends the watch, so a session can watch again and again", async () => {
  await using session: Session = await connect(server.url, { token: server.token! });
  await session.files.mkdir("watched");
  // 32 uploads, downloads and watches may be open per connection: a watch left open after the
  // loop would make the 33rd fail with limit_exceeded.
  for (let round = 0; round < 34; round++) {
    const watch = await session.files.watch("watched");
    await session.files.write(`watched/${round}.txt`, "x");
    for await (const event of watch) if (event.path === `watched/${round}.txt`) break;
  }
});

test("a download's failure and a watch's failure carry the server's code", async () => {
  await using session: Session = await connect(server.url, { token: server.token! });
  const download = async () => {
    for await (const _part of session.files.download("no/such.bin"));
  };
  expect(await settled(download())).toEqual({ code: "not_found" });
  await session.files.write("plain.txt", "x");
  expect(await settled(session.files.watch("plain.txt"))).toEqual({ code: "not_directory" });
  expect(await settled(session.files.upload("plain.txt", patternedBytes(10), { ifExists: "fail" }))).toEqual({ code: "exists" });
});

// The client always reads its socket (a browser cannot pause one), so the socket's backpressure
// alone let a loop that takes its chunks slowly hold up to the whole file in the client's memory
// (64 MiB here, measured at 60+ MiB received and not yet iterated). The download's ack window (4 MiB
// by default, acked as the loop consumes) bounds it.
test("a download iterated slowly holds at most a window of the file in the client", async () => {
  const tap = createWireTap();
  await using session = await connect(server.url, { token: server.token!, tokenVia: "subprotocol", WebSocket: tap.WebSocket });
  const size = 64 * 1024 * 1024;
  await session.files.upload("slow/big.bin", patternedBytes(size));
  const received = () =>
    tap.received.reduce((sum, message) => sum + (message["type"] === "file.download.chunk" ? Buffer.byteLength(String(message["data"]), "base64") : 0), 0);
  let consumed = 0;
  let mostHeld = 0;
  for await (const part of session.files.download("slow/big.bin")) {
    consumed += part.byteLength;
    // A slow consumer: one round trip to the server for each chunk.
    await session.files.stat("slow/big.bin");
    mostHeld = Math.max(mostHeld, received() - consumed);
  }
  expect(consumed).toBe(size);
  expect(mostHeld).toBeLessThanOrEqual(8 * 1024 * 1024);
}, 30_000);

// `--max-frame-bytes` may be as low as 1024: the server once offered 256 KiB upload chunks whatever
// the limit (their base64 message ~350 KB: close 1009 under a 256 KiB limit), and the client sent
// 256 KiB writes and stdin pieces. `hello.maxFrameBytes` now tells the client, and chunks fit.
test("an upload, a write and stdin to a server whose frame limit is 256 KiB arrive whole", async () => {
  await using small = await startServer({ args: ["--max-frame-bytes", String(256 * 1024)] });
  await using session = await connect(small.url, { token: small.token! });
  expect(session.hello.maxFrameBytes).toBe(256 * 1024);
  const data = patternedBytes(1024 * 1024);
  expect((await session.files.upload("small-frames.bin", data)).size).toBe(data.byteLength);
  expect(Buffer.from(await session.files.readBytes("small-frames.bin")).equals(Buffer.from(data))).toBe(true);
  // 250 KiB: one message at the default limit, more than one fits here.
  expect((await session.files.write("small-write.bin", data.subarray(0, 250 * 1024))).size).toBe(250 * 1024);
  const counter = session.exec(["wc", "-c"], { stdin: true });
  await counter.end(data);
  expect(await counter.stdout.readAllText()).toBe(`${data.byteLength}\n`);
});
