import { afterAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, REPO_ROOT, TEST_TOKEN } from "../helpers/server-process.ts";

/*
 * A self-signed certificate for 127.0.0.1 and localhost, made here with node:crypto and a few lines
 * of DER, so that the test needs no openssl binary and no certificate checked in.
 */

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function der(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag, ...derLength(body.length)]), body]);
}

const sequence = (...parts: Uint8Array[]) => der(0x30, ...parts);

function oid(dotted: string): Uint8Array {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift(0x80 | (value & 0x7f));
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Uint8Array {
  return der(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-:T]/g, "")}Z`));
}

function selfSignedCertificate(): { certPem: string; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const ecdsaWithSha256 = sequence(oid("1.2.840.10045.4.3.2"));
  const name = sequence(der(0x31, sequence(oid("2.5.4.3"), der(0x0c, Buffer.from("localhost")))));
  const altNames = sequence(der(0x82, Buffer.from("localhost")), der(0x87, Buffer.from([127, 0, 0, 1])));
  const now = Date.now();
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))),
    // A positive serial in minimal DER: the first byte non-zero and below 0x80.
    der(0x02, Buffer.concat([Buffer.from([0x01 + (randomBytes(1)[0]! % 0x7f)]), randomBytes(7)])),
    ecdsaWithSha256,
    name,
    sequence(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 365 * 86_400_000))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    der(0xa3, sequence(sequence(oid("2.5.29.17"), der(0x04, altNames)))),
  );
  const signature = sign("sha256", tbs, privateKey);
  const certificate = sequence(tbs, ecdsaWithSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const base64 = Buffer.from(certificate).toString("base64").replace(/.{64}/g, "$&\n");
  return { certPem: `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`, keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string };
}

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

describe("--tls-cert and --tls-key", () => {
  test("the server speaks wss:// and https://, and a client that trusts the certificate gets hello", async () => {
    await using server = await startTlsServer(["--tls-cert", certPath, "--tls-key", keyPath]);
    expect(server.scheme).toBe("wss");
    const hello = await firstMessage(`wss://127.0.0.1:${server.port}/ws`, { ca: certPem });
    expect(hello["type"]).toBe("hello");
    const health = await fetch(`https://localhost:${server.port}/healthz`, { tls: { ca: certPem } });
    expect({ status: health.status, ok: ((await health.json()) as { ok: boolean }).ok }).toEqual({ status: 200, ok: true });
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
    expect(await new Response(proc.stderr).text()).toMatch(/^bunker: cannot listen on 127\.0\.0\.1:0: .+\n$/);
  });
});

test("--insecure-bind starts on a non-loopback address without TLS, with a warning", async () => {
  await using server = await startTlsServer(["--host", "0.0.0.0", "--insecure-bind"]);
  expect(server.scheme).toBe("ws");
  expect(server.stderr()).toContain(
    "WARNING: listening on 0.0.0.0 without TLS (--insecure-bind): tokens and output cross the network in clear text unless a proxy in front ends TLS\n",
  );
  expect((await firstMessage(`ws://127.0.0.1:${server.port}/ws`))["type"]).toBe("hello");
});
