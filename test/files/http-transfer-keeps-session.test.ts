import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { bearer, fileUrl } from "./helpers/real-session.ts";

const IDLE_TTL_MS = 1000;

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

// Bug: HTTP file requests do not count as use of a session. A session without a socket expires at
// its idle TTL while a PUT or GET is still streaming: the workspace is deleted under the transfer,
// and the PUT fails with "the partial upload was moved or replaced". Fix outside src/files: give
// Session (src/server/session.ts) a `holdForHttp(): () => void` that counts open HTTP transfers,
// clears the expiry timer while any is open, and on release re-arms it as `leave` does (idle TTL
// from that moment). serveFileRoute (src/server/file-route.ts) takes the hold before handleFileHttp
// and releases it when the response body ends or is cancelled (wrap the body stream), or at once
// for bodiless answers. Unskip then.
test.skip("a PUT that outlasts the idle TTL of a session without a socket completes, and the session is still there after it", async () => {
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
