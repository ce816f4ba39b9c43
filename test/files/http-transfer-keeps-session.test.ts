import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { bearer, fileUrl } from "./helpers/real-session.ts";

/**
 * Short, so that the transfers outlast it; not shorter: between a session's socket closing and the
 * next request, a loaded machine once took a 1 s TTL (the GET found the session gone, 404).
 */
const IDLE_TTL_MS = 2000;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ args: ["--session-idle-ttl", `${IDLE_TTL_MS}ms`] });
});
afterAll(async () => {
  await server[Symbol.asyncDispose]();
});

/** A request body that a slow client sends: `parts` pieces of 1000 bytes, one every `everyMs`. */
function slowBody(parts: number, everyMs: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    async pull(controller) {
      if (sent++ >= parts) return controller.close();
      // The slowness is the case under test (a client on a slow link), not a wait for the server.
      await new Promise((resolve) => setTimeout(resolve, everyMs));
      controller.enqueue(new Uint8Array(1000).fill(sent));
    },
  });
}

// HTTP file requests once did not count as use of a session: a session without a socket expired at
// its idle TTL while a PUT or GET still streamed, and its workspace was deleted under the transfer.
test("a PUT that outlasts the idle TTL of a session without a socket completes, and the session is still there after it", async () => {
  const client = await connect(server);
  const url = fileUrl(server, client, "slow.bin");
  await client[Symbol.asyncDispose]();
  const parts = 25;
  const put = await fetch(url, { method: "PUT", body: slowBody(parts, (IDLE_TTL_MS * 2) / parts), headers: bearer(server), duplex: "half" } as RequestInit);
  expect({ status: put.status, body: await put.text() }).toMatchObject({ status: 201, body: expect.stringContaining(`"size":${parts * 1000}`) });
  const head = await fetch(url, { method: "HEAD", headers: bearer(server) });
  expect(head.status).toBe(200);
  expect(head.headers.get("content-length")).toBe(String(parts * 1000));
});

/** A session without a socket holding a file of `bytes` zero bytes at `path`; its URL. */
async function detachedSessionWithFile(path: string, bytes: number): Promise<{ client: TestClient; url: string }> {
  const client = await connect(server);
  const url = fileUrl(server, client, path);
  expect((await fetch(url, { method: "PUT", body: new Uint8Array(bytes), headers: bearer(server) })).status).toBe(201);
  await client[Symbol.asyncDispose]();
  return { client, url };
}

test("a GET read slowly past the idle TTL of a session without a socket keeps the session, whose clock starts again when it ends", async () => {
  // Far more than loopback's socket buffers hold (the sender's up to 4 MiB here), read at a rate
  // that takes about twice the TTL. The server's GET ends when the last bytes are in those buffers,
  // and curl drains them after: at 24 MB (6 MB/s) that took ~0.7 s of the TTL's 2 s, and a loaded CI
  // run once spent the rest before the HEAD (404). At 48 MB (12 MB/s) it takes ~0.35 s.
  const bytes = 48_000_000;
  const { url } = await detachedSessionWithFile("big.bin", bytes);
  const curl = Bun.spawn(["curl", "-sS", "--limit-rate", String(bytes / ((IDLE_TTL_MS * 2) / 1000)), "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-H", `Authorization: Bearer ${server.token}`, url], { stdout: "pipe" });
  expect(await new Response(curl.stdout).text()).toBe(`200 ${bytes}`);
  expect(await curl.exited).toBe(0);
  const head = await fetch(url, { method: "HEAD", headers: bearer(server) });
  expect(head.status).toBe(200);
});

test("a GET the client abandons midway releases the session, which then expires at its idle TTL", async () => {
  const { client, url } = await detachedSessionWithFile("big.bin", 24_000_000);
  const abort = new AbortController();
  const response = await fetch(url, { headers: bearer(server), signal: abort.signal });
  const reader = response.body!.getReader();
  expect((await reader.read()).done).toBe(false);
  abort.abort();
  const deadline = Date.now() + IDLE_TTL_MS * 4;
  while (existsSync(client.hello.workspace) && Date.now() < deadline) await Bun.sleep(50);
  expect(existsSync(client.hello.workspace)).toBe(false);
});
