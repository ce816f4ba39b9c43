// Findings of the 2026-11-27 review of the day's new paths (stdin flow control, request retention,
// dash values, IP syntax): each test here but "still reaches a command..." (which guards the stdin
// fix) failed before its fix.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runServe, type ServeOutcome } from "../../src/cli/serve.ts";
import { ipVersionOf } from "../../src/common/ip-address.ts";
import { RESUME_SUBPROTOCOL_PREFIX, type ExecInfo, type ServerMessage } from "../../src/protocol/index.ts";
import { clientAddress } from "../../src/server/connection-limits.ts";
import { connect } from "../helpers/client.ts";
import { roundTrip } from "../helpers/round-trip.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { BUN, REPO_ROOT, startServer, TEST_TOKEN, type TestServer } from "../helpers/server-process.ts";

const MIB = 1024 * 1024;

/** bunker run as its own process, to its exit: what the user sees on stderr. */
async function runBunker(args: string[]): Promise<{ code: number; stderr: string }> {
  const proc = Bun.spawn([BUN, join(REPO_ROOT, "src", "main.ts"), ...args], { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }, stdout: "ignore", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  return { code, stderr };
}

describe("a value flag followed by something that looks like a flag", () => {
  // The dash-value handling (now in src/cli/parse-flags.ts) quoted the whole following argument and built `--flag=<it>` from it:
  // a token or env value that starts with `-h`, `-t`, `-e`, `-i`, or a forgotten value before
  // `--token=…`, went to stderr (and so to journald or CI logs). parseArgs before it said only
  // "ambiguous" and never quoted the value.
  const SECRET = "Sup3rSecretValue0123456789";
  for (const [title, args] of [
    ["serve --token -h<secret>", ["serve", "--port", "0", "--token", `-h${SECRET}`]],
    ["serve --host --token=<secret>", ["serve", "--host", `--token=${SECRET}`]],
    ["exec --token -t<secret>", ["exec", "--url", "ws://127.0.0.1:9/ws", "--token", `-t${SECRET}`, "--", "true"]],
    ["exec --url --token=<secret>", ["exec", "--url", `--token=${SECRET}`, "--", "true"]],
    ["exec -e -iKEY=<secret>", ["exec", "--url", "ws://127.0.0.1:9/ws", "-e", `-iKEY=${SECRET}`, "--", "true"]],
  ] as const) {
    test(`${title} is a usage error that does not print the secret`, async () => {
      const { code, stderr } = await runBunker([...args]);
      expect(code).toBe(2);
      expect(stderr).toContain("needs a value");
      expect(stderr).not.toContain(SECRET);
    });
  }
});

describe("IP syntax without node:net", () => {
  // WebKit's URL parser takes `[::1:]`, which node:net's isIP (and RFC 4291) refuse.
  test("an IPv6 address with a trailing single colon is not an address", () => {
    for (const text of ["::1:", "1::2:", "fe80::1:%eth0"]) expect(ipVersionOf(text)).toBe(0);
    for (const text of ["::1", "1:2:3:4:5:6:7::", "fe80::1%eth0", "::"]) expect(ipVersionOf(text)).toBe(6);
  });

  test("a trusted X-Forwarded-For entry that is not an address falls back to the peer", () => {
    expect(clientAddress("10.0.0.7", "::1:", true)).toBe("10.0.0.7");
  });
});

/** A server in this process, so that the test can look at its heap. */
async function startInProcess(extra: string[]): Promise<{ outcome: ServeOutcome; url: string; dispose(): Promise<void> }> {
  const workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-test-ws-"));
  const outcome = await runServe(["--port", "0", "--token", TEST_TOKEN, "--workspace-root", workspaceRoot, "--log-level", "error", ...extra], {});
  if (!outcome) throw new Error("serve printed its help");
  return {
    outcome,
    url: outcome.server.url.href,
    async dispose() {
      await outcome.shutdown();
      rmSync(workspaceRoot, { recursive: true, force: true });
    },
  };
}

/** The JS heap in use after a full collection. */
function heapAfterGc(): number {
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
}

/** Live instances of a class, by name, from a heap snapshot (JSC's nodes are 4 numbers each). */
function liveInstances(className: string): number {
  Bun.gc(true);
  const snapshot = Bun.generateHeapSnapshot() as unknown as { nodes: number[]; nodeClassNames: string[] };
  const index = snapshot.nodeClassNames.indexOf(className);
  let count = 0;
  for (let node = 0; node < snapshot.nodes.length; node += 4) if (snapshot.nodes[node + 2] === index) count++;
  return count;
}

describe.skipIf(noBwrap)("stdin of a command that does not read", () => {
  let server: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    // The rate cap only slows the attack (1000 sockets of one address at 1000 messages a second).
    server = await startInProcess(["--max-messages-per-second", "1000000", "--hold-output", "0s"]);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  // A pipe writer queued each message as its own Buffer, promise and closure (~360 bytes measured)
  // while the bound counted only its bytes: 8 MiB of one-byte messages would pin ~3 GB per exec, 64
  // execs a server.
  test("costs the server about its bytes, not a few hundred bytes per message", async () => {
    await using client = await connect({ url: server.url, token: TEST_TOKEN });
    client.send({ type: "exec", id: "unread", argv: ["sleep", "4545"], stdin: true });
    await client.next((message) => message.type === "started" && message.id === "unread");
    await roundTrip(client);
    const before = heapAfterGc();
    const messages = 300_000;
    for (let index = 0; index < messages; index++) client.send({ type: "stdin", id: "unread", data: "x" });
    await roundTrip(client);
    expect(client.takeQueued((message) => message.type === "error")).toEqual([]);
    const grownBytes = heapAfterGc() - before;
    // The bytes themselves (300 kB, 64 KiB of it in the pipe) and a chunk or two of slack.
    expect(grownBytes).toBeLessThan(16 * MIB);
    client.send({ type: "signal", id: "unread", signal: "SIGKILL" });
    await client.runToExit("unread");
  }, 120_000);

  test("still reaches a command that reads it whole and in order, small and large writes mixed", async () => {
    await using client = await connect({ url: server.url, token: TEST_TOKEN });
    // It reads only once every write is queued in the server, so that the small ones are copied together.
    client.send({ type: "exec", id: "digest", cmd: "until [ -e go ]; do sleep 0.01; done; sha256sum", stdin: true });
    const sizes = Array.from({ length: 700 }, (_, index) => (index % 7 === 0 ? 20_000 + index * 37 : 1 + ((index * 7919) % 3000)));
    const hasher = new Bun.CryptoHasher("sha256");
    for (const [index, size] of sizes.entries()) {
      const bytes = Buffer.alloc(size, index % 251);
      hasher.update(bytes);
      client.send({ type: "stdin", id: "digest", data: bytes.toString("base64"), encoding: "base64" });
    }
    client.send({ type: "stdin", id: "digest", eof: true });
    await roundTrip(client);
    expect((await client.exec({ id: "go", argv: ["touch", "go"] })).exit).toMatchObject({ code: 0 });
    const run = await client.runToExit("digest");
    expect(run.errors).toEqual([]);
    expect(run.stdout).toBe(`${hasher.digest("hex")}  -\n`);
  }, 60_000);

  // Every socket that sent an exec's stdin stayed in its writer set until the next stdin.ack, which
  // a command that never reads never causes: a client that reconnects and writes grew it without end.
  test("does not keep the sockets that wrote it once they have closed", async () => {
    await using owner = await connect({ url: server.url, token: TEST_TOKEN });
    owner.send({ type: "exec", id: "held", argv: ["sleep", "4545"], stdin: true });
    await owner.next((message) => message.type === "started" && message.id === "held");
    const reconnects = 40;
    for (let index = 0; index < reconnects; index++) {
      const writer = await connect(
        { url: server.url, token: TEST_TOKEN },
        { query: { session: owner.hello.session }, protocols: ["bunker.v1", `${RESUME_SUBPROTOCOL_PREFIX}${owner.hello.resumeSecret}`] },
      );
      writer.send({ type: "stdin", id: "held", data: "" });
      await roundTrip(writer);
      await writer[Symbol.asyncDispose]();
    }
    await roundTrip(owner);
    // The owner's socket, and a few that the collector has not reached: never one per reconnect.
    expect(liveInstances("WebSocketSink")).toBeLessThan(10);
    owner.send({ type: "signal", id: "held", signal: "SIGKILL" });
    await owner.runToExit("held");
  }, 60_000);
});

describe.skipIf(noBwrap)("a session of large non-ASCII commands", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
  });

  // #forgetOldOutput counted a request by its UTF-16 length: 8 Mi code units of CJK text are 24 MiB
  // of UTF-8, so the retained requests, with the running ones beside them, made `list` (and a
  // resumed hello) more than the socket's 32 MiB hard cap, the 4008 that the bound was made for.
  test("keeps at most about 8 MiB of finished requests as sent, and list stays under the socket's cap", async () => {
    await using client = await connect(server);
    // 8 arguments of 120 kB of UTF-8 each (under the kernel's 128 KiB per argument): a 960 kB frame.
    const big = Array.from({ length: 8 }, () => "語".repeat(40_000));
    const finished = 30;
    for (let wave = 0; wave < finished; wave += 6) {
      const ids = Array.from({ length: 6 }, (_, index) => `done-${wave + index}`);
      for (const id of ids) client.send({ type: "exec", id, argv: ["true", ...big] });
      for (const id of ids) expect((await client.runToExit(id)).exit).toMatchObject({ code: 0 });
    }
    const running = Array.from({ length: 15 }, (_, index) => `running-${index}`);
    for (const id of running) client.send({ type: "exec", id, argv: ["sh", "-c", "exec sleep 4545", ...big] });
    for (const id of running) await client.next((message) => message.type === "started" && message.id === id);
    client.send({ type: "list", id: "all" });
    const listed = await Promise.race([
      client.next<Extract<ServerMessage, { type: "execs" }>>((message) => message.type === "execs" && message.id === "all"),
      client.closed.then(({ code, reason }) => {
        throw new Error(`the socket was closed (${code} ${reason}) instead of answering list`);
      }),
    ]);
    const exited = listed.execs.filter((exec: ExecInfo) => exec.state === "exited");
    const keptBytes = exited.reduce((sum, exec) => sum + Buffer.byteLength(JSON.stringify(exec.argv)), 0);
    expect(keptBytes).toBeLessThan(9 * MIB);
    for (const id of running) client.send({ type: "signal", id, signal: "SIGKILL" });
    for (const id of running) await client.runToExit(id);
  }, 120_000);
});

describe("a request whose Host header makes no URL", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ args: ["--sandbox", "none"] });
  });
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
  });

  /** One raw HTTP/1.1 request (fetch cannot send such a Host), to its status line. */
  async function statusLine(host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connectTcp(server.port, "127.0.0.1", () => socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
      let received = "";
      socket.on("data", (chunk) => (received += chunk));
      socket.on("close", () => resolve(received.split("\r\n")[0]!));
      socket.on("error", reject);
    });
  }

  // `new URL(request.url)` threw on such a Host before any check: a 500 and a stack trace in the log,
  // for anyone who could reach the port, without the token.
  test("is a 400, with no stack trace in the server's log", async () => {
    expect(await statusLine(`127.0.0.1:${server.port}:evil.com`)).toBe("HTTP/1.1 400 Bad Request");
    expect(await statusLine(`[::1]x:${server.port}`)).toBe("HTTP/1.1 400 Bad Request");
    // Answered after the two above on the same server: their log lines (if any) are out by now.
    expect(await statusLine(`127.0.0.1:${server.port}`)).toBe("HTTP/1.1 200 OK");
    expect(server.stderr()).not.toContain("TypeError");
  });
});
