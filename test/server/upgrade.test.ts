import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import WebSocket from "ws";
import { startServer, type TestServer } from "../helpers/server-process.ts";

/** Attempts an upgrade with raw fetch, so the HTTP status before the upgrade is visible. */
async function upgradeStatus(server: TestServer, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${server.port}/ws`, {
    headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers },
  });
  await response.body?.cancel();
  return response.status;
}

describe("the upgrade checks token and origin", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server[Symbol.asyncDispose]();
  });

  test("no token: 401", async () => {
    expect(await upgradeStatus(server, {})).toBe(401);
  });

  test("a wrong token: 401", async () => {
    expect(await upgradeStatus(server, { authorization: "Bearer wrong-token-wrong-token" })).toBe(401);
  });

  test("the right bearer token: 101", async () => {
    expect(await upgradeStatus(server, { authorization: `Bearer ${server.token}` })).toBe(101);
  });

  test("the token as a subprotocol is accepted, and only bunker.v1 is echoed", async () => {
    const ws = new WebSocket(server.url, ["bunker.v1", `bunker.token.${server.token}`]);
    const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
      ws.once("message", (data) => resolve(JSON.parse(String(data))));
      ws.once("error", reject);
    });
    expect(hello["type"]).toBe("hello");
    expect(ws.protocol).toBe("bunker.v1");
    ws.close();
  });

  test("a foreign Origin: 403, even with the right token", async () => {
    expect(await upgradeStatus(server, { authorization: `Bearer ${server.token}`, origin: "https://evil.example" })).toBe(403);
  });

  test("the server's own origin is allowed", async () => {
    expect(await upgradeStatus(server, { authorization: `Bearer ${server.token}`, origin: `http://127.0.0.1:${server.port}` })).toBe(101);
  });

  test("a request that is not an upgrade gets 426, and other paths 404", async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/ws`)).status).toBe(426);
    expect((await fetch(`http://127.0.0.1:${server.port}/nothing`)).status).toBe(404);
  });
});

test("a server on loopback takes only loopback names as its own origin: a rebound name is refused (DNS rebinding)", async () => {
  await using server = await startServer({ token: undefined });
  const port = server.port;
  // What a page at http://attacker.example:<port> sends once its name resolves to 127.0.0.1.
  expect(await upgradeStatus(server, { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` })).toBe(403);
  for (const name of ["localhost", "127.0.0.1", "app.localhost"]) {
    expect(await upgradeStatus(server, { host: `${name}:${port}`, origin: `http://${name}:${port}` })).toBe(101);
  }
});

test("--allow-origin lets a listed origin in", async () => {
  await using server = await startServer({ args: ["--allow-origin", "https://app.example"] });
  expect(await upgradeStatus(server, { authorization: `Bearer ${server.token}`, origin: "https://app.example" })).toBe(101);
  expect(await upgradeStatus(server, { authorization: `Bearer ${server.token}`, origin: "https://other.example" })).toBe(403);
});

test("--allow-origin written by hand (a trailing slash, upper case, the default port) still matches what browsers send", async () => {
  await using server = await startServer({ args: ["--allow-origin", "HTTPS://App.Example:443/"] });
  expect(await upgradeStatus(server, { authorization: `Bearer ${server.token}`, origin: "https://app.example" })).toBe(101);
  expect(await upgradeStatus(server, { authorization: `Bearer ${server.token}`, origin: "https://app.example:8443" })).toBe(403);
});

test("--no-auth accepts a client without a token", async () => {
  await using server = await startServer({ token: undefined });
  expect(await upgradeStatus(server, {})).toBe(101);
});

test("without --token or BUNKER_TOKEN a 256-bit token is generated, printed once in a URL fragment, and required", async () => {
  await using server = await startServer({ token: "generate" });
  expect(server.token).toBeDefined();
  expect(Buffer.from(server.token!, "base64url").length).toBe(32);
  expect(server.stderr().split(server.token!).length - 1).toBe(1);
  expect(server.stderr()).toContain(`http://127.0.0.1:${server.port}/#token=${server.token}`);
  expect(await upgradeStatus(server, {})).toBe(401);
  expect(await upgradeStatus(server, { authorization: `Bearer ${server.token}` })).toBe(101);
});

test("BUNKER_TOKEN sets the token", async () => {
  await using server = await startServer({ token: "generate", env: { BUNKER_TOKEN: "from-the-environment-123" } });
  expect(server.stderr()).not.toContain("from-the-environment-123");
  expect(server.stderr()).not.toContain("#token=");
  expect(await upgradeStatus(server, { authorization: "Bearer from-the-environment-123" })).toBe(101);
});

test("offering only the token subprotocol is refused with 400, so the token is never echoed", async () => {
  await using server = await startServer();
  const response = await fetch(`http://127.0.0.1:${server.port}/ws`, {
    headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-protocol": `bunker.token.${server.token}` },
  });
  expect(response.status).toBe(400);
  expect(response.headers.get("sec-websocket-protocol")).toBeNull();
});
