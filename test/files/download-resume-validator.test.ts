import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { bearer, fileUrl, replyOf, request } from "./helpers/real-session.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server[Symbol.asyncDispose]();
});

/** A download's bytes and its ready message (as a record: `etag` is the field this test asks for). */
async function download(client: TestClient, message: Record<string, unknown> & { id: string }) {
  const ready = (await request(client, { type: "file.download", ...message })) as ServerMessage & Record<string, unknown>;
  expect(ready).toMatchObject({ type: "file.download.ready" });
  const parts: Buffer[] = [];
  for (;;) {
    const next = await replyOf(client, message.id);
    if (next.type === "file.download.done") return { ready, bytes: Buffer.concat(parts) };
    if (next.type !== "file.download.chunk") throw new Error(JSON.stringify(next));
    parts.push(Buffer.from(next.data, "base64"));
  }
}

// A download over the WebSocket once resumed by offset alone, with nothing to tell the version of
// the file: when the file changed between two attempts, the client spliced old bytes with new ones.
// Now `file.download.ready` carries HTTP's ETag as `etag`, and `ifRange` works as HTTP's If-Range.
test("a download resumed with ifRange after the file changed starts over at 0 instead of splicing two versions", async () => {
  await using client = await connect(server);
  await request(client, { type: "file.write", id: "v1", path: "data.txt", data: "a".repeat(600_000) });
  const first = await download(client, { id: "d1", path: "data.txt", length: 300_000 });
  const etag = first.ready["etag"];
  const head = await fetch(fileUrl(server, client, "data.txt"), { method: "HEAD", headers: bearer(server) });
  expect(etag).toBe(head.headers.get("etag")!);

  await request(client, { type: "file.write", id: "v2", path: "data.txt", data: "b".repeat(600_000) });
  const resumed = await download(client, { id: "d2", path: "data.txt", offset: 300_000, ifRange: etag });
  expect(resumed.ready).toMatchObject({ offset: 0, length: 600_000 });
  expect(resumed.ready["etag"]).not.toBe(etag);
  expect(resumed.bytes.toString()).toBe("b".repeat(600_000));

  const unchanged = await download(client, { id: "d3", path: "data.txt", offset: 300_000, ifRange: resumed.ready["etag"] });
  expect(unchanged.ready).toMatchObject({ offset: 300_000, length: 300_000 });
});
