// The client library's file methods at the edges: sizes around the one-message limit, empty files,
// offsets at and past the end, a file replaced between the parts of one read, what a listing or a
// stat of the workspace says beyond its entries, and resuming a download of a file that changed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, type FileWatch, type Session } from "../../src/client/index.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { createWireTap } from "../helpers/tapped-websocket.ts";
import { patternedBytes } from "../helpers/patterned-bytes.ts";
import { settled } from "../helpers/settled.ts";

let server: TestServer;
let session: Session;
const tap = createWireTap();
beforeAll(async () => {
  server = await startServer({ args: ["--workspace-quota-bytes", String(64 * 1024 * 1024)] });
  session = await connect(server.url, { token: server.token!, tokenVia: "subprotocol", WebSocket: tap.WebSocket });
});
afterAll(async () => {
  await session.close();
  await server[Symbol.asyncDispose]();
});

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** The request types the client sent for `path` while `action` ran. */
async function requestsFor(path: string, action: () => Promise<unknown>): Promise<string[]> {
  const before = tap.sent.length;
  await action();
  return tap.sent.slice(before).filter((message) => message["path"] === path).map((message) => String(message["type"]));
}

test("a write of exactly 256 KiB goes in one message, one byte more as an upload, and both read back exact", async () => {
  const limit = patternedBytes(256 * 1024, 1);
  const over = patternedBytes(256 * 1024 + 1, 2);
  expect(await requestsFor("edge/limit.bin", () => session.files.write("edge/limit.bin", limit))).toEqual(["file.write"]);
  expect(await requestsFor("edge/over.bin", () => session.files.write("edge/over.bin", over))).toEqual(["file.upload"]);
  expect(same(await session.files.readBytes("edge/limit.bin"), limit)).toBe(true);
  expect(same(await session.files.readBytes("edge/over.bin"), over)).toBe(true);
  expect(await settled(session.files.write("edge/over.bin", over, { ifExists: "fail" }))).toEqual({ code: "exists" });
  expect((await session.files.write("edge/over.bin", over, { ifExists: "append" })).size).toBe(2 * over.byteLength);
});

test("empty files are written, uploaded and read as empty", async () => {
  expect((await session.files.write("edge/empty.txt", "")).size).toBe(0);
  expect((await session.files.upload("edge/empty-up.bin", new Uint8Array(0))).size).toBe(0);
  expect((await session.files.upload("edge/empty-it.bin", (async function* () {})())).size).toBe(0);
  expect(await session.files.read("edge/empty.txt")).toBe("");
  expect(await session.files.readBytes("edge/empty-up.bin")).toEqual(new Uint8Array(0));
  const parts: Uint8Array[] = [];
  for await (const part of session.files.download("edge/empty-it.bin")) parts.push(part);
  expect(parts.reduce((sum, part) => sum + part.byteLength, 0)).toBe(0);
});

test("a read at the end gives nothing, past the end is bad_message, and a length past the end stops at the end", async () => {
  await session.files.write("edge/ten.txt", "0123456789");
  expect(await session.files.read("edge/ten.txt", { offset: 10 })).toBe("");
  expect(await session.files.read("edge/ten.txt", { offset: 10, length: 5 })).toBe("");
  expect(await session.files.read("edge/ten.txt", { offset: 7, length: 100 })).toBe("789");
  expect(await session.files.read("edge/ten.txt", { offset: 3, length: 0 })).toBe("");
  expect(await settled(session.files.read("edge/ten.txt", { offset: 11 }))).toEqual({ code: "bad_message" });
  const big = patternedBytes(3 * 1024 * 1024, 3);
  await session.files.upload("edge/big.bin", big);
  expect((await session.files.readBytes("edge/big.bin", { offset: big.byteLength })).byteLength).toBe(0);
  expect(same(await session.files.readBytes("edge/big.bin", { offset: 100, length: 5 * 1024 * 1024 }), big.subarray(100))).toBe(true);
  expect(await settled(session.files.readBytes("edge/big.bin", { offset: big.byteLength + 1, length: 2 * 1024 * 1024 }))).toEqual({ code: "bad_message" });
});

// File requests of one connection are handled in order, so a move sent right after readBytes
// lands between its first `file.read` and the download that fetches the rest.
test("a file larger than one read that is replaced while it is read comes back as one version, never spliced", async () => {
  const before = patternedBytes(2 * 1024 * 1024, 4);
  const after = patternedBytes(2 * 1024 * 1024, 5);
  await session.files.upload("swap/f.bin", before);
  await session.files.upload("swap/g.bin", after);
  const [bytes] = await Promise.all([session.files.readBytes("swap/f.bin"), session.files.move("swap/g.bin", "swap/f.bin", { overwrite: true })]);
  expect({ size: bytes.byteLength, before: same(bytes, before), after: same(bytes, after) }).toEqual({ size: after.byteLength, before: false, after: true });
});

test("a file larger than one read that shrinks while it is read comes back as its new content, not bad_message", async () => {
  await session.files.upload("swap/s.bin", patternedBytes(2 * 1024 * 1024, 6));
  const [bytes] = await Promise.all([settled(session.files.readBytes("swap/s.bin")), session.files.write("swap/s.bin", "short")]);
  expect(bytes).toEqual({ value: new TextEncoder().encode("short") });
});

test("a file larger than one read that grows while it is read comes back whole, with what was appended", async () => {
  const head = patternedBytes(1536 * 1024, 7);
  await session.files.upload("swap/grow.log", head);
  const [text] = await Promise.all([session.files.readBytes("swap/grow.log"), session.files.write("swap/grow.log", "tail", { ifExists: "append" })]);
  expect(same(text, Buffer.concat([head, new TextEncoder().encode("tail")]))).toBe(true);
});

/** 10,005 files, made by a command while a watch of their directory was open: for the two tests below. */
let manyFiles: Promise<FileWatch> | undefined;
const makeManyFiles = () =>
  (manyFiles ??= (async () => {
    await session.files.mkdir("many");
    const watch = await session.files.watch("many");
    const made = session.exec(["sh", "-c", "cd many && seq 10005 | xargs touch"]);
    expect((await made.exited).code).toBe(0);
    return watch;
  })());

test("a listing cut at the server's 10,000 entries says it was truncated", async () => {
  await makeManyFiles();
  const entries = await session.files.list("many");
  expect({ length: entries.length, truncated: entries.truncated }).toEqual({ length: 10_000, truncated: true });
  expect((await session.files.list("edge")).truncated).toBe(false);
}, 20_000);

// The server drops events past 10,000 for a client that does not read; this client always reads
// its socket, so without a bound of its own it held every event for a loop that did not run.
test("a watch nobody iterates holds at most 10,000 events, and says it overflowed", async () => {
  const watch = await makeManyFiles();
  let seen = 0;
  await tap.until("received", (message) => {
    if (message["type"] !== "file.watch.events") return false;
    seen += (message["events"] as unknown[]).length;
    return seen > 10_000 || message["overflow"] === true;
  });
  expect(watch.overflowed).toBe(true);
  let held = 0;
  for await (const _event of watch) if (++held === 10_000) break;
  expect(held).toBe(10_000);
}, 20_000);

test("a stat of the workspace itself reports its usage and quota", async () => {
  const root = await session.files.stat(".");
  expect(root.usage?.quotaBytes).toBe(64 * 1024 * 1024);
  expect(root.usage?.usedBytes).toBeGreaterThan(0);
  expect((await session.files.stat("edge/ten.txt")).usage).toBeUndefined();
});

test("a download tells its file's version, and a resume of a file that changed since says it starts over at 0", async () => {
  const first = patternedBytes(1024 * 1024, 8);
  await session.files.upload("resume/r.bin", first);
  const broken = session.files.download("resume/r.bin");
  let reached = 0;
  for await (const part of broken) {
    reached += part.byteLength;
    break;
  }
  const etag = broken.ready?.etag;
  expect(typeof etag).toBe("string");
  expect(broken.ready).toMatchObject({ offset: 0, size: first.byteLength, length: first.byteLength });

  // Unchanged: the rest comes, from where it broke off.
  const rest = session.files.download("resume/r.bin", { offset: reached, ifRange: etag! });
  const restParts: Uint8Array[] = [];
  for await (const part of rest) restParts.push(part);
  expect(rest.ready).toMatchObject({ offset: reached, etag });
  expect(same(Buffer.concat(restParts), first.subarray(reached))).toBe(true);

  // Changed: the whole new file comes, and the download says so.
  const second = patternedBytes(1024 * 1024, 9);
  await session.files.upload("resume/r.bin", second);
  const again = session.files.download("resume/r.bin", { offset: reached, ifRange: etag! });
  const parts: Uint8Array[] = [];
  for await (const part of again) parts.push(part);
  expect(again.ready?.offset).toBe(0);
  expect(again.ready?.etag).not.toBe(etag);
  expect(same(Buffer.concat(parts), second)).toBe(true);
});

/** How a call ended: its value, or the name and message of what it threw. */
async function outcome(promise: Promise<unknown>): Promise<{ value: unknown } | { error: string }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

// JavaScript callers (and TypeScript ones holding `any`) pass what E2B's files.write takes: an
// ArrayBuffer, or a stream of ArrayBuffers. These made an empty or zero-filled file and resolved.
test("files.write and files.upload refuse data that is not bytes, naming what they got, and write nothing", async () => {
  const wrong = (value: unknown) => value as Uint8Array;
  expect(await outcome(session.files.write("kinds/array.bin", wrong([1, 2, 3])))).toEqual({
    error: "TypeError: files.write: data must be a string or a Uint8Array, got Array",
  });
  expect(await outcome(session.files.write("kinds/buffer.bin", wrong(new Uint8Array([7, 7]).buffer)))).toEqual({
    error: "TypeError: files.write: data must be a string or a Uint8Array, got ArrayBuffer",
  });
  expect(await outcome(session.files.write("kinds/null.bin", wrong(null)))).toEqual({
    error: "TypeError: files.write: data must be a string or a Uint8Array, got null",
  });
  expect(await outcome(session.files.upload("kinds/number.bin", wrong(42)))).toEqual({
    error: "TypeError: files.upload: data must be a Uint8Array or an async iterable of them, got number",
  });
  expect(await outcome(session.files.upload("kinds/numbers.bin", wrong([1, 2, 3])))).toEqual({
    error: "TypeError: files.upload: the data yielded number, not a Uint8Array",
  });
  const buffers = (async function* () {
    yield new Uint8Array([1, 2]);
    yield new Uint8Array([7, 7, 7, 7]).buffer;
  })();
  expect(await outcome(session.files.upload("kinds/buffers.bin", buffers as AsyncIterable<Uint8Array>))).toEqual({
    error: "TypeError: files.upload: the data yielded ArrayBuffer, not a Uint8Array",
  });
  expect((await session.files.list("kinds").catch(() => [])).map((entry) => entry.name)).toEqual([]);
  // Bytes in any iterable still go: a plain array of Uint8Arrays, a Node Buffer.
  expect((await session.files.upload("kinds/parts.bin", wrong([new Uint8Array([1]), Buffer.from([2, 3])]))).size).toBe(3);
  expect(await session.files.readBytes("kinds/parts.bin")).toEqual(new Uint8Array([1, 2, 3]));
});
