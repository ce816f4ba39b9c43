import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { connect as connectTls } from "node:tls";
import { BUN, REPO_ROOT, TEST_TOKEN } from "../helpers/server-process.ts";
import { selfSignedCertificate } from "../helpers/self-signed.ts";
import { pageAssetLinks } from "../helpers/page-headers.ts";

const dir = mkdtempSync(join(tmpdir(), "bunker-tls-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { certPem, keyPem } = selfSignedCertificate();
const certPath = join(dir, "cert.pem");
const keyPath = join(dir, "key.pem");
writeFileSync(certPath, certPem);
writeFileSync(keyPath, keyPem, { mode: 0o600 });

/** Starts `bunker serve` with the given flags and waits for its listening line (wss:// or ws://). */
async function startTlsServer(args: string[]) {
  // Its own temporary directory, as the shared helper makes one: a 0700 parent would bar uid 65534.
  const workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-test-ws-"));
  const proc = Bun.spawn([BUN, join(REPO_ROOT, "src", "main.ts"), "serve", "--port", "0", "--workspace-root", workspaceRoot, "--token", TEST_TOKEN, ...args], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root" },
    stderr: "pipe",
  });
  const reader = proc.stderr.getReader();
  let stderr = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`server exited: ${stderr}`);
    stderr += new TextDecoder().decode(value);
    const match = /listening on (wss?):\/\/[^:]+:(\d+)\//.exec(stderr);
    if (match) {
      void (async () => {
        for (let next = await reader.read(); !next.done; next = await reader.read()) stderr += new TextDecoder().decode(next.value);
      })();
      return {
        scheme: match[1]!,
        port: Number(match[2]),
        stderr: () => stderr,
        async [Symbol.asyncDispose]() {
          proc.kill("SIGTERM");
          await proc.exited;
          rmSync(workspaceRoot, { recursive: true, force: true });
        },
      };
    }
  }
}

/** Opens a WebSocket and resolves with its first message, or rejects when it fails to open. */
function firstMessage(url: string, tls?: { ca: string }): Promise<Record<string, unknown>> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TEST_TOKEN}` }, protocols: ["bunker.v1"], ...(tls && { tls }) } as unknown as string[]);
  return new Promise((resolve, reject) => {
    ws.addEventListener("message", (event) => {
      resolve(JSON.parse(String(event.data)));
      ws.close();
    });
    ws.addEventListener("error", () => reject(new Error("the WebSocket failed")));
    ws.addEventListener("close", (event) => reject(new Error(`closed ${event.code}`)));
  });
}

/**
 * Each kind of answer the server gives, with its status and its Strict-Transport-Security: the page
 * and one of its files, the health check, metrics and a file without the token, the socket's path
 * without an upgrade, and a path nobody serves.
 */
async function transportSecurityOf(base: string, tls?: { ca: string }, host?: string): Promise<{ path: string; status: number; hsts: string | null }[]> {
  const headers = host === undefined ? {} : { host };
  const html = await (await fetch(base, { tls, headers } as RequestInit)).text();
  const [asset] = pageAssetLinks(html);
  const paths = ["/", asset!.slice(1), "/healthz", "/metrics", "/files/notes.txt?session=nobody", "/ws", "/nowhere"];
  const answers = [];
  for (const path of paths) {
    const response = await fetch(new URL(path, base), { tls, headers } as RequestInit);
    await response.arrayBuffer();
    answers.push({ path: path.startsWith("/chunk-") ? "/<page file>" : path, status: response.status, hsts: response.headers.get("strict-transport-security") });
  }
  return answers;
}

/** What transportSecurityOf finds, with `hsts` on every answer. */
const everyAnswerWith = (hsts: string | null) => [
  { path: "/", status: 200, hsts },
  { path: "/<page file>", status: 200, hsts },
  { path: "/healthz", status: 200, hsts },
  { path: "/metrics", status: 401, hsts },
  { path: "/files/notes.txt?session=nobody", status: 401, hsts },
  { path: "/ws", status: 426, hsts },
  { path: "/nowhere", status: 404, hsts },
];

describe("--tls-cert and --tls-key", () => {
  test("the server speaks wss:// and https://, and a client that trusts the certificate gets hello", async () => {
    await using server = await startTlsServer(["--tls-cert", certPath, "--tls-key", keyPath]);
    expect(server.scheme).toBe("wss");
    const hello = await firstMessage(`wss://127.0.0.1:${server.port}/ws`, { ca: certPem });
    expect(hello["type"]).toBe("hello");
    const health = await fetch(`https://localhost:${server.port}/healthz`, { tls: { ca: certPem } });
    expect({ status: health.status, ok: ((await health.json()) as { ok: boolean }).ok }).toEqual({ status: 200, ok: true });
  });

  // A browser that had one answer over TLS asks this host over TLS only, for a year: an http:// link
  // with a #token= is then never answered by whoever sits on the path.
  test("every answer, the page's and every other, carries Strict-Transport-Security", async () => {
    await using server = await startTlsServer(["--tls-cert", certPath, "--tls-key", keyPath]);
    expect(await transportSecurityOf(`https://127.0.0.1:${server.port}/`, { ca: certPem }, `bunker.example.com:${server.port}`)).toEqual(everyAnswerWith("max-age=31536000"));
  });

  // Kept for the host name on every port: over https://localhost it would make every plain-http
  // development server of the machine unreachable in that browser. Browsers ignore it for addresses.
  test("no answer for localhost, a name under it or an IP address carries Strict-Transport-Security", async () => {
    await using server = await startTlsServer(["--tls-cert", certPath, "--tls-key", keyPath]);
    const base = `https://127.0.0.1:${server.port}/`;
    const hosts = [`localhost:${server.port}`, `app.localhost:${server.port}`, `LOCALHOST:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`];
    for (const host of hosts) expect({ host, answers: await transportSecurityOf(base, { ca: certPem }, host) }).toEqual({ host, answers: everyAnswerWith(null) });
  });

  // Found by the last read: the header's check read the URL again, and threw where the routes answer 400.
  test("a Host header that makes no URL gets 400 over TLS too, not a server error", async () => {
    await using server = await startTlsServer(["--tls-cert", certPath, "--tls-key", keyPath]);
    const socket = connectTls({ host: "127.0.0.1", port: server.port, ca: certPem });
    let reply = "";
    socket.on("data", (chunk: Buffer) => (reply += chunk.toString("latin1")));
    await once(socket, "secureConnect");
    socket.end("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:80:evil.com\r\nConnection: close\r\n\r\n");
    await once(socket, "close");
    expect(reply.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
  });

  test("a client that does not trust the certificate, and a plain ws:// client, get nothing", async () => {
    await using server = await startTlsServer(["--tls-cert", certPath, "--tls-key", keyPath]);
    await expect(firstMessage(`wss://127.0.0.1:${server.port}/ws`)).rejects.toThrow("the WebSocket failed");
    await expect(firstMessage(`ws://127.0.0.1:${server.port}/ws`)).rejects.toThrow();
    await expect(fetch(`https://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
  });

  test("with TLS a non-loopback address needs no --insecure-bind, and nothing is warned", async () => {
    await using server = await startTlsServer(["--host", "0.0.0.0", "--tls-cert", certPath, "--tls-key", keyPath]);
    expect(server.scheme).toBe("wss");
    expect(server.stderr()).not.toContain("WARNING: listening");
    expect((await firstMessage(`wss://127.0.0.1:${server.port}/ws`, { ca: certPem }))["type"]).toBe("hello");
  });

  test("a key that is not the certificate's refuses to start with one line", async () => {
    const other = selfSignedCertificate();
    const otherKey = join(dir, "other-key.pem");
    writeFileSync(otherKey, other.keyPem, { mode: 0o600 });
    const proc = Bun.spawn([BUN, "src/main.ts", "serve", "--port", "0", "--token", TEST_TOKEN, "--tls-cert", certPath, "--tls-key", otherKey], {
      stderr: "pipe",
      env: { PATH: process.env["PATH"] ?? "" },
    });
    expect(await proc.exited).toBe(2);
    // Said before any listening, naming the flag, as bunker config says it too.
    expect(await new Response(proc.stderr).text()).toBe(`bunker: --tls-key: ${JSON.stringify(otherKey)} is not the private key of ${JSON.stringify(certPath)}\n`);
  });
});

test("without TLS no answer carries Strict-Transport-Security", async () => {
  await using server = await startTlsServer([]);
  expect(server.scheme).toBe("ws");
  expect(await transportSecurityOf(`http://127.0.0.1:${server.port}/`)).toEqual(everyAnswerWith(null));
});

test("--insecure-bind starts on a non-loopback address without TLS, with a warning", async () => {
  await using server = await startTlsServer(["--host", "0.0.0.0", "--insecure-bind"]);
  expect(server.scheme).toBe("ws");
  expect(server.stderr()).toContain(
    "WARNING: listening on 0.0.0.0 without TLS (--insecure-bind): tokens and output cross the network in clear text unless a proxy in front ends TLS\n",
  );
  expect((await firstMessage(`ws://127.0.0.1:${server.port}/ws`))["type"]).toBe("hello");
});
