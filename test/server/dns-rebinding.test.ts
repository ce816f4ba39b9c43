/**
 * DNS rebinding against a server on loopback without a token (--no-auth): a page at
 * http://attacker.example:<port> whose name now resolves to 127.0.0.1 is the server's own origin to
 * the browser, and its same-origin GETs carry no Origin header, only `Host: attacker.example:<port>`.
 * The upgrade refused it by its Origin already; found by a review, GET /files read a named session's
 * files (a name is easy to guess) and /metrics the server's, until the Host was checked too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

/** A GET as the rebound page sends it (no Origin, its own name as Host): the status and the body. */
async function get(server: TestServer, path: string, host: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { host } });
  return { status: response.status, body: await response.text() };
}

describe("a server on loopback with --no-auth", () => {
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await startServer({ token: undefined, args: ["--allow-origin", "https://bunker.example"] });
    client = await connect(server, { query: { name: "project" } });
    client.send({ type: "file.write", id: "w", path: "notes.txt", data: "secret notes\n" });
    await client.next((message) => "id" in message && message.id === "w");
  });
  afterAll(async () => {
    await client?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
  });

  test("refuses a request whose Host is a rebound name, on the file route and /metrics", async () => {
    const refused = { status: 403, body: "host not allowed: a server on loopback without a token answers only loopback names\n" };
    expect(await get(server, "/files/notes.txt?session=project", `attacker.example:${server.port}`)).toEqual(refused);
    expect(await get(server, "/metrics", `attacker.example:${server.port}`)).toEqual(refused);
    // The page holds no secret, but a rebound name gets nothing here either.
    expect(await get(server, "/", `attacker.example:${server.port}`)).toEqual(refused);
    expect((await get(server, "/", `localhost:${server.port}`)).status).toBe(200);
  });

  test("answers loopback names and the host of an allowed origin", async () => {
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`, "bunker.example"]) {
      expect(await get(server, "/files/notes.txt?session=project", host)).toEqual({ status: 200, body: "secret notes\n" });
    }
  });
});

test("a server with a token answers any Host: a rebound page has no token to send", async () => {
  await using server = await startServer();
  const response = await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: { host: `attacker.example:${server.port}`, authorization: `Bearer ${server.token}` } });
  await response.body?.cancel();
  expect(response.status).toBe(200);
});
