import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { replyOf, request } from "./helpers/real-session.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ args: ["--max-messages-per-second", "100000"] });
});
afterAll(async () => {
  await server[Symbol.asyncDispose]();
});

/** Fills the workspace so that a deep file.list keeps the connection's request queue busy for a while. */
async function makeSlowListing(client: TestClient): Promise<void> {
  const run = await client.exec({ id: "fill", cmd: "mkdir t && cd t && seq 1 5000 | xargs touch" });
  expect(run.exit.code).toBe(0);
}

/** A round trip through the queue: everything sent before it has been answered by the time it returns. */
async function drain(client: TestClient, id: string): Promise<void> {
  expect(await request(client, { type: "file.stat", id, path: "." })).toMatchObject({ type: "file.stat.result" });
}

// Each fills a workspace with 5000 files and lists it deeply to keep the queue busy: seconds on a
// loaded machine, past the default 5 s.
test("an unwatch sent before the watch's turn ends the watch without a ready, and no events follow", async () => {
  await using client = await connect(server);
  await makeSlowListing(client);
  client.send({ type: "file.list", id: "busy", path: ".", depth: 2 });
  client.send({ type: "file.watch", id: "w", path: ".", recursive: true });
  client.send({ type: "file.unwatch", id: "w" });
  expect(await replyOf(client, "w")).toEqual({ type: "file.unwatch.result", id: "w" });
  expect(await replyOf(client, "busy")).toMatchObject({ type: "file.list.result" });
  // Another watch shows that changes happened and were reported, but not to the unwatched one.
  await request(client, { type: "file.watch", id: "probe", path: "." });
  await request(client, { type: "file.write", id: "write", path: "changed.txt", data: "x" });
  await client.next((message) => message.type === "file.watch.events" && message.id === "probe" && message.events.some((event) => event.path === "changed.txt"));
  await drain(client, "s");
  expect(client.takeQueued((message) => "id" in message && message.id === "w")).toEqual([]);
}, 20_000);

test("a cancel sent before a download's or an upload's turn ends it without a ready: no chunk, no partial file", async () => {
  await using client = await connect(server);
  await makeSlowListing(client);
  await request(client, { type: "file.write", id: "big", path: "big.txt", data: "x".repeat(700_000) });
  client.send({ type: "file.list", id: "busy", path: ".", depth: 2 });
  client.send({ type: "file.download", id: "d", path: "big.txt" });
  client.send({ type: "file.cancel", id: "d" });
  client.send({ type: "file.upload", id: "u", path: "up.bin", size: 10 });
  client.send({ type: "file.cancel", id: "u" });
  expect(await replyOf(client, "d")).toEqual({ type: "file.cancel.result", id: "d" });
  expect(await replyOf(client, "u")).toEqual({ type: "file.cancel.result", id: "u" });
  await drain(client, "s");
  expect(client.takeQueued((message) => "id" in message && (message.id === "d" || message.id === "u"))).toEqual([]);
  expect(readdirSync(client.hello.workspace).sort()).toEqual(["big.txt", "t"]);
  // The ids are free again.
  expect(await request(client, { type: "file.download", id: "d", path: "big.txt", length: 3 })).toMatchObject({ type: "file.download.ready", length: 3 });
}, 20_000);

test("a cancel or unwatch of an id that was never asked for is still unknown_transfer", async () => {
  await using client = await connect(server);
  expect(await request(client, { type: "file.cancel", id: "nothing" })).toMatchObject({ type: "error", code: "unknown_transfer" });
  expect(await request(client, { type: "file.unwatch", id: "nothing" })).toMatchObject({ type: "error", code: "unknown_transfer" });
  // A cancel names an upload or a download; a waiting watch is not cancelled by it.
  client.send({ type: "file.watch", id: "w", path: "." });
  client.send({ type: "file.cancel", id: "w" });
  const replies = [await replyOf(client, "w"), await replyOf(client, "w")];
  expect(replies.map((reply) => (reply.type === "error" ? reply.code : reply.type)).sort()).toEqual(["file.watch.ready", "unknown_transfer"]);
});
