import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileValidatorsOf } from "../../src/files/http-validators.ts";
import type { ErrorCode } from "../../src/protocol/index.ts";
import { createHarness, type Harness, type Received } from "./helpers/harness.ts";

const refused = (id: string, code: ErrorCode): Received => ({ type: "error", id, code, message: expect.any(String) });
const b64 = (text: string) => Buffer.from(text).toString("base64");
const chunk = (h: Harness, id: string, offset: number, text: string, eof = false) =>
  h.handler.handle({ type: "file.upload.chunk", id, offset, data: b64(text), ...(eof && { eof }) });
const nextOf = (h: Harness, id: string) => h.next((reply) => "id" in reply && reply.id === id);

/** Downloads `path` whole and returns what arrived. */
async function download(h: Harness, id: string, request: Record<string, unknown> = {}) {
  const ready = await h.request({ type: "file.download", id, ...request });
  const chunks: { offset: number; bytes: Buffer }[] = [];
  if (ready.type !== "file.download.ready") return { ready, chunks, done: undefined };
  for (;;) {
    const reply = await nextOf(h, id);
    if (reply.type === "file.download.chunk") chunks.push({ offset: reply.offset, bytes: Buffer.from(reply.data, "base64") });
    else return { ready, chunks, done: reply };
  }
}

describe("upload", () => {
  test("chunks are acked as they are written and the file appears whole at eof, with no partial file left", async () => {
    using h = createHarness({ owner: { uid: 65534, gid: 65534 } });
    expect(await h.request({ type: "file.upload", id: "u", path: "dir/up.txt", size: 11 })).toEqual({
      type: "file.upload.ready", id: "u", offset: 0, chunkBytes: 256 * 1024, windowBytes: 4 * 1024 * 1024,
    });
    chunk(h, "u", 0, "hello ");
    expect(await nextOf(h, "u")).toEqual({ type: "file.upload.ack", id: "u", offset: 6 });
    expect(existsSync(join(h.workspace, "dir/up.txt"))).toBe(false);
    // The partial file is the commands' user's meanwhile: root's, it failed their git add -A (a review).
    const [partial] = readdirSync(join(h.workspace, "dir"));
    expect(partial).toStartWith(".bunker-part-");
    expect(statSync(join(h.workspace, "dir", partial!))).toMatchObject({ uid: 65534, gid: 65534 });
    chunk(h, "u", 6, "world", true);
    expect(await nextOf(h, "u")).toMatchObject({ type: "file.upload.done", id: "u", entry: { path: "dir/up.txt", size: 11, uid: 65534, gid: 65534, mode: 0o644 } });
    expect(readFileSync(join(h.workspace, "dir/up.txt"), "utf8")).toBe("hello world");
    expect(readdirSync(join(h.workspace, "dir"))).toEqual(["up.txt"]);
    expect(statSync(join(h.workspace, "dir")).uid).toBe(65534);
    chunk(h, "u", 11, "late");
    expect(await nextOf(h, "u")).toEqual(refused("u", "unknown_transfer"));
  });

  // Found by an audit: the bytes went where the directory had gone, and `done` named the old path,
  // which held nothing (or, with a symlink put in the directory's place, led outside the workspace).
  test("an upload whose directory a command moves away before the commit is refused, as one whose directory is deleted, and leaves nothing", async () => {
    using h = createHarness();
    await h.request({ type: "file.upload", id: "moved", path: "d1/f", size: 6, parents: true });
    chunk(h, "moved", 0, "abc");
    await nextOf(h, "moved");
    renameSync(join(h.workspace, "d1"), join(h.workspace, "d2"));
    chunk(h, "moved", 3, "def", true);
    expect(await nextOf(h, "moved")).toEqual(refused("moved", "not_found"));
    expect(readdirSync(join(h.workspace, "d2"))).toEqual([]);

    await h.request({ type: "file.upload", id: "swapped", path: "s/f", size: 3, parents: true });
    renameSync(join(h.workspace, "s"), join(h.workspace, "s.old"));
    mkdirSync(join(h.workspace, "s"));
    chunk(h, "swapped", 0, "xyz", true);
    expect(await nextOf(h, "swapped")).toEqual(refused("swapped", "not_found"));
    expect([readdirSync(join(h.workspace, "s")), readdirSync(join(h.workspace, "s.old"))]).toEqual([[], []]);
  });

  test("a chunk at the wrong offset, too large, or past the window ends the upload and deletes its partial file", async () => {
    using h = createHarness({ limits: { chunkBytes: 4, windowBytes: 8 } });
    await h.request({ type: "file.upload", id: "a", path: "a" });
    chunk(h, "a", 1, "x");
    expect(await nextOf(h, "a")).toEqual(refused("a", "bad_message"));
    await h.request({ type: "file.upload", id: "b", path: "b" });
    chunk(h, "b", 0, "12345");
    expect(await nextOf(h, "b")).toEqual(refused("b", "too_large"));
    await h.request({ type: "file.upload", id: "c", path: "c" });
    chunk(h, "c", 0, "1234");
    chunk(h, "c", 4, "5678");
    chunk(h, "c", 8, "9");
    expect(await nextOf(h, "c")).toEqual(refused("c", "limit_exceeded"));
    await h.request({ type: "file.stat", id: "sync", path: "." });
    expect(readdirSync(h.workspace)).toEqual([]);
  });

  test("the declared size is held to: more is too_large, less at eof is bad_message", async () => {
    using h = createHarness();
    await h.request({ type: "file.upload", id: "more", path: "more", size: 3 });
    chunk(h, "more", 0, "1234");
    expect(await nextOf(h, "more")).toEqual(refused("more", "too_large"));
    await h.request({ type: "file.upload", id: "less", path: "less", size: 3 });
    chunk(h, "less", 0, "12", true);
    expect(await nextOf(h, "less")).toEqual(refused("less", "bad_message"));
    expect(existsSync(join(h.workspace, "less"))).toBe(false);
  });

  test("an upload cut by a closed connection resumes from the offset the new one asks, or from where the partial file ends", async () => {
    const first = createHarness();
    await first.request({ type: "file.upload", id: "r", path: "big.bin" });
    chunk(first, "r", 0, "0123456789");
    expect(await nextOf(first, "r")).toEqual({ type: "file.upload.ack", id: "r", offset: 10 });
    first.handler.close();
    using second = createHarness({ workspace: first.workspace });
    expect(await second.request({ type: "file.upload", id: "r", path: "big.bin", offset: 6 })).toMatchObject({ type: "file.upload.ready", offset: 6 });
    chunk(second, "r", 6, "6789");
    await nextOf(second, "r");
    second.handler.close();
    using third = createHarness({ workspace: first.workspace });
    expect(await third.request({ type: "file.upload", id: "r", path: "big.bin", offset: 1e9 })).toMatchObject({ type: "file.upload.ready", offset: 10 });
    chunk(third, "r", 10, "ABC", true);
    expect(await nextOf(third, "r")).toMatchObject({ type: "file.upload.done", entry: { size: 13 } });
    expect(readFileSync(join(first.workspace, "big.bin"), "utf8")).toBe("0123456789ABC");
    expect(await third.request({ type: "file.upload", id: "fresh", path: "f", offset: 5 })).toMatchObject({ type: "file.upload.ready", offset: 0 });
    first[Symbol.dispose]();
  });

  test("cancel deletes the partial file, and unknown ids are unknown_transfer", async () => {
    using h = createHarness();
    await h.request({ type: "file.upload", id: "c", path: "c" });
    chunk(h, "c", 0, "abc");
    await nextOf(h, "c");
    expect(await h.request({ type: "file.cancel", id: "c" })).toEqual({ type: "file.cancel.result", id: "c" });
    await h.request({ type: "file.stat", id: "sync", path: "." });
    expect(readdirSync(h.workspace)).toEqual([]);
    expect(await h.request({ type: "file.cancel", id: "c" })).toEqual(refused("c", "unknown_transfer"));
    chunk(h, "nope", 0, "x");
    expect(await nextOf(h, "nope")).toEqual(refused("nope", "unknown_transfer"));
  });

  test("ifExists fail refuses an existing file at the start and one that appears before the commit", async () => {
    using h = createHarness();
    writeFileSync(join(h.workspace, "there"), "old");
    expect(await h.request({ type: "file.upload", id: "1", path: "there", ifExists: "fail" })).toEqual(refused("1", "exists"));
    await h.request({ type: "file.upload", id: "2", path: "later", ifExists: "fail" });
    writeFileSync(join(h.workspace, "later"), "theirs");
    chunk(h, "2", 0, "mine", true);
    expect(await nextOf(h, "2")).toEqual(refused("2", "exists"));
    expect(readFileSync(join(h.workspace, "later"), "utf8")).toBe("theirs");
  });

  test("the quota and the transfer cap are checked up front when the size is declared, and chunk by chunk otherwise", async () => {
    using h = createHarness({ quotaBytes: 10, limits: { maxTransferBytes: 8 } });
    expect(await h.request({ type: "file.upload", id: "1", path: "a", size: 9 })).toEqual(refused("1", "too_large"));
    await h.request({ type: "file.upload", id: "2", path: "a" });
    chunk(h, "2", 0, "12345");
    await nextOf(h, "2");
    chunk(h, "2", 5, "6789");
    expect(await nextOf(h, "2")).toEqual(refused("2", "too_large"));
    writeFileSync(join(h.workspace, "existing"), "1234567");
    expect(await h.request({ type: "file.upload", id: "3", path: "b", size: 4 })).toEqual(refused("3", "quota_exceeded"));
    await h.request({ type: "file.upload", id: "4", path: "b" });
    chunk(h, "4", 0, "123");
    expect(await nextOf(h, "4")).toMatchObject({ type: "file.upload.ack" });
    chunk(h, "4", 3, "4");
    expect(await nextOf(h, "4")).toEqual(refused("4", "quota_exceeded"));
    expect(await h.request({ type: "file.upload", id: "5", path: "existing", size: 8 })).toMatchObject({ type: "file.upload.ready" });
  });

  test("ids of open transfers are unique and their number is capped", async () => {
    using h = createHarness({ limits: { maxOpenHandles: 2 } });
    await h.request({ type: "file.upload", id: "1", path: "a" });
    expect(await h.request({ type: "file.upload", id: "1", path: "b" })).toEqual(refused("1", "duplicate_id"));
    await h.request({ type: "file.watch", id: "2", path: "." });
    expect(await h.request({ type: "file.upload", id: "3", path: "c" })).toEqual(refused("3", "limit_exceeded"));
  });
});

describe("download", () => {
  test("a file arrives in contiguous chunks, whole or as an offset and length", async () => {
    using h = createHarness({ limits: { chunkBytes: 4 } });
    writeFileSync(join(h.workspace, "f"), "0123456789");
    const whole = await download(h, "1", { path: "f" });
    const { entityTag } = fileValidatorsOf(statSync(join(h.workspace, "f"), { bigint: true }));
    expect(whole.ready).toEqual({ type: "file.download.ready", id: "1", size: 10, offset: 0, length: 10, etag: entityTag });
    expect(whole.chunks.map((part) => [part.offset, part.bytes.toString()])).toEqual([[0, "0123"], [4, "4567"], [8, "89"]]);
    expect(whole.done).toEqual({ type: "file.download.done", id: "1", offset: 10, bytes: 10 });
    const part = await download(h, "2", { path: "f", offset: 3, length: 5 });
    expect(part.ready).toMatchObject({ offset: 3, length: 5 });
    expect(Buffer.concat(part.chunks.map((c) => c.bytes)).toString()).toBe("34567");
    expect(part.done).toEqual({ type: "file.download.done", id: "2", offset: 8, bytes: 5 });
    expect((await download(h, "3", { path: "f", offset: 10 })).done).toEqual({ type: "file.download.done", id: "3", offset: 10, bytes: 0 });
    expect((await download(h, "4", { path: "f", offset: 11 })).ready).toEqual(refused("4", "bad_message"));
    expect((await download(h, "5", { path: "." })).ready).toEqual(refused("5", "is_directory"));
    expect((await download(h, "6", { path: "no" })).ready).toEqual(refused("6", "not_found"));
  });

  test("nothing is read while the connection is congested, and cancel stops the download", async () => {
    using h = createHarness({ limits: { chunkBytes: 2 } });
    writeFileSync(join(h.workspace, "f"), "0123456789");
    const release = h.congest();
    expect(await h.request({ type: "file.download", id: "d", path: "f" })).toMatchObject({ type: "file.download.ready" });
    await h.request({ type: "file.stat", id: "sync", path: "f" });
    expect(h.queued()).toEqual([]);
    expect(await h.request({ type: "file.cancel", id: "d" })).toEqual({ type: "file.cancel.result", id: "d" });
    release();
    await h.request({ type: "file.stat", id: "sync2", path: "f" });
    expect(h.queued()).toEqual([]);
    const flowing = await download(h, "again", { path: "f" });
    expect(flowing.chunks.length).toBe(5);
  });

  test("ifRange naming another version gets the whole file from 0, and the version's own tag gets the window asked for", async () => {
    using h = createHarness();
    writeFileSync(join(h.workspace, "f"), "0123456789");
    const { entityTag } = fileValidatorsOf(statSync(join(h.workspace, "f"), { bigint: true }));
    const stale = await download(h, "1", { path: "f", offset: 3, length: 2, ifRange: '"0-0-0"' });
    expect(stale.ready).toEqual({ type: "file.download.ready", id: "1", size: 10, offset: 0, length: 10, etag: entityTag });
    expect(Buffer.concat(stale.chunks.map((c) => c.bytes)).toString()).toBe("0123456789");
    const same = await download(h, "2", { path: "f", offset: 3, length: 2, ifRange: entityTag });
    expect(same.ready).toEqual({ type: "file.download.ready", id: "2", size: 10, offset: 3, length: 2, etag: entityTag });
    expect(Buffer.concat(same.chunks.map((c) => c.bytes)).toString()).toBe("34");
  });

  test("a file larger than the transfer cap is too_large", async () => {
    using h = createHarness({ limits: { maxTransferBytes: 5 } });
    writeFileSync(join(h.workspace, "f"), "0123456789");
    expect((await download(h, "1", { path: "f" })).ready).toEqual(refused("1", "too_large"));
  });
});
