import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect as connectTcp } from "node:net";
import { connect as connectTls } from "node:tls";
import type { OutputMessage } from "../../src/protocol/index.ts";
import { REPO_ROOT, startServer, type TestServer } from "../helpers/server-process.ts";
import { nginxMissing, startNginx, startNginxUnderPath, type TestNginx } from "./nginx-process.ts";
import { connect } from "../helpers/client.ts";
import { lastValue, parseUnitFile } from "./systemd-unit.ts";

const missing = nginxMissing();
if (missing && process.env["REQUIRE_SANDBOX"] === "1") throw new Error(`REQUIRE_SANDBOX=1 but ${missing}`);
if (missing) console.warn(`skipping the nginx tests: ${missing}`);

/** deploy/bunker.service's ExecStart, whose proxy flag the server behind nginx runs with here too. */
const UNIT_EXEC_START = lastValue(parseUnitFile(readFileSync(join(REPO_ROOT, "deploy", "bunker.service"), "utf8")).get("Service"), "ExecStart") ?? "";

/**
 * Asks for a WebSocket upgrade at `url` over TLS from the local address `localAddress` (any of
 * 127/8 on Linux), with `headers`; resolves with the status of the answer.
 */
function upgradeStatusFrom(localAddress: string, url: string, ca: string, headers: Record<string, string>): Promise<number> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connectTls({ socket: connectTcp({ host: hostname, port: Number(port), localAddress }), host: hostname, ca });
    const lines = ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    socket.on("secureConnect", () => socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\n${lines.join("\r\n")}\r\n\r\n`));
    let answer = "";
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
      if (!status) return;
      socket.destroy();
      resolve(Number(status[1]));
    });
    socket.on("error", reject);
  });
}

/** What `seq 1 N` prints. */
function seqOutput(count: number): string {
  return `${Array.from({ length: count }, (_, i) => i + 1).join("\n")}\n`;
}

describe.skipIf(missing !== undefined)("bunker behind nginx with deploy/nginx/bunker.conf", () => {
  let server: TestServer;
  let nginx: TestNginx;

  beforeAll(async () => {
    expect(UNIT_EXEC_START.split(/\s+/)).toContain("--trust-proxy");
    server = await startServer({ args: ["--trust-proxy"] });
    nginx = await startNginx(server.port);
  }, 30_000);

  afterAll(async () => {
    await nginx?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
  });

  test("runs an exec through the proxy and returns its output and exit whole", async () => {
    await using client = await connect({ url: nginx.wssUrl, token: server.token }, { ca: nginx.certificatePem });
    expect(client.hello.type).toBe("hello");
    client.send({ type: "exec", id: "greet", argv: ["echo", "hello through nginx"] });
    expect((await client.runToExit("greet")).messages).toEqual([
      { type: "started", id: "greet", pid: expect.any(Number) },
      { type: "output", id: "greet", stream: "stdout", offset: 0, data: "hello through nginx\n" },
      { type: "exit", id: "greet", code: 0, signal: null, reason: "exited", durationMs: expect.any(Number) },
    ]);
  });

  test("streams 20 MB of output through the proxy byte-exact, offsets contiguous", async () => {
    await using client = await connect({ url: nginx.wssUrl, token: server.token }, { ca: nginx.certificatePem });
    const count = 2_800_000;
    client.send({ type: "exec", id: "seq", argv: ["seq", "1", String(count)], encoding: "base64" });
    const { messages } = await client.runToExit("seq");
    const outputs = messages.filter((message): message is OutputMessage => message.type === "output");
    let offset = 0;
    const offsetsContiguous = outputs.every((message) => {
      const contiguous = message.offset === offset;
      offset += Buffer.byteLength(message.data, "base64");
      return contiguous;
    });
    const received = Buffer.concat(outputs.map((message) => Buffer.from(message.data, "base64")));
    const expected = Buffer.from(seqOutput(count));
    expect(expected.byteLength).toBeGreaterThan(20_000_000);
    expect({ offsetsContiguous, bytes: received.byteLength, identical: received.equals(expected) }).toEqual({
      offsetsContiguous: true,
      bytes: expected.byteLength,
      identical: true,
    });
    expect(messages.filter((message) => message.type !== "output")).toEqual([
      { type: "started", id: "seq", pid: expect.any(Number) },
      { type: "exit", id: "seq", code: 0, signal: null, reason: "exited", durationMs: expect.any(Number) },
    ]);
  }, 60_000);

  test("passes the token offered as a subprotocol, as browsers send it", async () => {
    await using client = await connect({ url: nginx.wssUrl, token: undefined }, { protocols: ["bunker.v1", `bunker.token.${server.token}`], ca: nginx.certificatePem });
    client.send({ type: "exec", id: "browser", argv: ["true"] });
    const { messages } = await client.runToExit("browser");
    expect(messages.at(-1)).toEqual({ type: "exit", id: "browser", code: 0, signal: null, reason: "exited", durationMs: expect.any(Number) });
  });

  test("refuses a missing token with 401 through the proxy", async () => {
    const response = await fetch(nginx.wssUrl.replace(/^wss/, "https"), {
      headers: { connection: "upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
      tls: { ca: nginx.certificatePem },
    } as RequestInit);
    expect(response.status).toBe(401);
  });

  // bunker behind nginx speaks plain HTTP and sends none: the config's add_header is the only one.
  test("tells browsers to ask over HTTPS only (Strict-Transport-Security), on the page and on a refusal, and not over plain HTTP", async () => {
    const tls = { ca: nginx.certificatePem };
    const page = await fetch(nginx.wssUrl.replace(/^wss/, "https").replace(/ws$/, ""), { tls } as RequestInit);
    const refused = await fetch(nginx.wssUrl.replace(/^wss/, "https").replace(/ws$/, "metrics"), { tls } as RequestInit);
    const redirect = await fetch(`${nginx.httpUrl}/`, { redirect: "manual", headers: { host: "bunker.example.com" } });
    expect([page, refused, redirect].map((response) => ({ status: response.status, hsts: response.headers.get("strict-transport-security") }))).toEqual([
      { status: 200, hsts: "max-age=31536000" },
      { status: 401, hsts: "max-age=31536000" },
      { status: 301, hsts: null },
    ]);
  });

  // With the unit's --trust-proxy, bunker takes the client's address from the last X-Forwarded-For
  // entry, which this config appends: the per-address cap and the log see each client, not nginx,
  // and a client cannot pass for another address by sending the header itself.
  test("names each client by the address nginx saw, not nginx's, even when the client sends an X-Forwarded-For of its own", async () => {
    // A wrong token, not a missing one: the line of the missing-token test above may come after this test starts.
    const logged = server.nextStderr(/connection\.refused remote=(\S+) auth=wrong/);
    const headers = { Authorization: "Bearer not-the-token-0123456789", "X-Forwarded-For": "203.0.113.9" };
    const status = await upgradeStatusFrom("127.0.0.2", nginx.wssUrl, nginx.certificatePem, headers);
    expect({ status, remote: (await logged)[1] }).toEqual({ status: 401, remote: "127.0.0.2" });
  });

  test("answers plain HTTP with a redirect to HTTPS and nothing else", async () => {
    const response = await fetch(`${nginx.httpUrl}/ws`, { redirect: "manual", headers: { host: "bunker.example.com" } });
    expect({ status: response.status, location: response.headers.get("location") }).toEqual({
      status: 301,
      location: "https://bunker.example.com/ws",
    });
  });
});

describe.skipIf(missing !== undefined)("bunker under a path of nginx (/bunker/), as docs/INSTALL.md shows", () => {
  let server: TestServer;
  let nginx: Awaited<ReturnType<typeof startNginxUnderPath>>;

  beforeAll(async () => {
    server = await startServer();
    nginx = await startNginxUnderPath(server.port, "/bunker/");
  }, 30_000);

  afterAll(async () => {
    await nginx?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
  });

  test("the page links its files relatively, and each of them loads under the path", async () => {
    const tls = { ca: nginx.certificatePem };
    const page = await fetch(nginx.baseUrl, { tls } as RequestInit);
    expect(page.status).toBe(200);
    const html = await page.text();
    const links = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThanOrEqual(2);
    expect(links.filter((link) => !link.startsWith("./"))).toEqual([]);
    for (const link of links) expect({ link, status: (await fetch(new URL(link, nginx.baseUrl), { tls } as RequestInit)).status }).toEqual({ link, status: 200 });
    // What the page asks for beside itself: the health check, when a socket fails.
    expect((await fetch(new URL("healthz", nginx.baseUrl), { tls } as RequestInit)).status).toBe(200);
  });

  test("the socket beside the page runs an exec", async () => {
    await using client = await connect({ url: nginx.wssUrl, token: server.token }, { ca: nginx.certificatePem });
    const run = await client.exec({ id: "under-path", argv: ["echo", "under a path"] });
    expect(run.stdout).toBe("under a path\n");
  });
});
