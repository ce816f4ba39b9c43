import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { bearer, fileUrl, replyOf, request } from "./helpers/real-session.ts";

const QUOTA_BYTES = 1_000_000;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ args: ["--workspace-quota-bytes", String(QUOTA_BYTES)] });
});
afterAll(async () => {
  await server[Symbol.asyncDispose]();
});

test("a workspace a command filled past its quota still takes writes and uploads that shrink it, and refuses those that grow it", async () => {
  await using client = await connect(server);
  await request(client, { type: "file.write", id: "small", path: "notes.txt", data: "x".repeat(1000) });
  // The quota binds the file API only: a command can write past it.
  expect((await client.exec({ id: "fill", cmd: "head -c 2000000 /dev/zero > big.log" })).exit.code).toBe(0);
  expect(await request(client, { type: "file.stat", id: "s", path: "." })).toMatchObject({ usage: { usedBytes: 2_001_000, quotaBytes: QUOTA_BYTES } });

  expect(await request(client, { type: "file.write", id: "shrink", path: "notes.txt", data: "short" })).toMatchObject({ type: "file.write.result", entry: { size: 5 } });
  expect(await request(client, { type: "file.write", id: "empty-append", path: "notes.txt", data: "", ifExists: "append" })).toMatchObject({ type: "file.write.result" });
  expect(await request(client, { type: "file.write", id: "truncate", path: "big.log", data: "" })).toMatchObject({ type: "file.write.result", entry: { size: 0 } });
  // Now at 5 bytes: the workspace is under its quota again, and a write that fits it passes.
  expect(await request(client, { type: "file.write", id: "fits", path: "more.txt", data: "y".repeat(1000) })).toMatchObject({ type: "file.write.result" });
});

test("past the quota, an upload or PUT that replaces a file with fewer bytes passes, and one that adds bytes is quota_exceeded", async () => {
  await using client = await connect(server);
  expect((await client.exec({ id: "fill", cmd: "head -c 1500000 /dev/zero > big.log" })).exit.code).toBe(0);

  expect(await request(client, { type: "file.upload", id: "up", path: "big.log", size: 4 })).toMatchObject({ type: "file.upload.ready" });
  client.send({ type: "file.upload.chunk", id: "up", offset: 0, data: Buffer.from("tail").toString("base64"), eof: true });
  expect(await replyOf(client, "up")).toMatchObject({ type: "file.upload.done", entry: { path: "big.log", size: 4 } });

  expect((await client.exec({ id: "refill", cmd: "head -c 1500000 /dev/zero > big.log" })).exit.code).toBe(0);
  const put = await fetch(fileUrl(server, client, "big.log"), { method: "PUT", body: "tail", headers: bearer(server) });
  expect(put.status).toBe(200);

  expect((await client.exec({ id: "refill2", cmd: "head -c 1500000 /dev/zero > big.log" })).exit.code).toBe(0);
  expect(await request(client, { type: "file.write", id: "grow", path: "new.txt", data: "z" })).toMatchObject({ type: "error", code: "quota_exceeded" });
  expect(await request(client, { type: "file.write", id: "grow-append", path: "big.log", data: "z", ifExists: "append" })).toMatchObject({ type: "error", code: "quota_exceeded" });
  expect(await request(client, { type: "file.upload", id: "grow-up", path: "new.bin", size: 1 })).toMatchObject({ type: "error", code: "quota_exceeded" });
});
