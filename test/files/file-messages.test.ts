import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

const MB = 1_000_000;
const BIG_BYTES = 100 * 1024 * 1024;

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

/** Samples a process's RSS every 50 ms until stopped; returns the growth of the peak over the start. */
function sampleRss(pid: number): { stop(): number } {
  const start = rssBytes(pid);
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid)) - start;
    },
  };
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

const reply = (client: TestClient, id: string) => client.next((message: ServerMessage) => "id" in message && message.id === id);

let server: TestServer;
beforeAll(async () => {
  // The symlink race below sends requests as fast as the replies come back, which on a fast run
  // passes the default 1000 messages a second and gets the connection closed (4029).
  server = await startServer({ args: ["--max-messages-per-second", "100000"] });
});
afterAll(async () => {
  await server[Symbol.asyncDispose]();
});

describe("through a real server", () => {
  test("a file written over the socket is the command's, and a command's file can be read, listed, moved and removed", async () => {
    await using client = await connect(server);
    client.send({ type: "file.write", id: "w", path: "src/hello.txt", data: "hi from the client\n" });
    expect(await reply(client, "w")).toMatchObject({ type: "file.write.result", entry: { path: "src/hello.txt", size: 19 } });
    const run = await client.exec({ id: "e", cmd: "cat src/hello.txt && printf made > src/made.txt" });
    expect(run.stdout).toBe("hi from the client\n");
    client.send({ type: "file.read", id: "r", path: `${client.hello.workspace}/src/made.txt` });
    expect(await reply(client, "r")).toMatchObject({ type: "file.read.result", data: "made", eof: true });
    client.send({ type: "file.list", id: "l", path: "src" });
    expect(await reply(client, "l")).toMatchObject({ entries: [{ path: "src/hello.txt" }, { path: "src/made.txt" }] });
    client.send({ type: "file.move", id: "m", from: "src/made.txt", to: "made.txt" });
    expect(await reply(client, "m")).toMatchObject({ type: "file.move.result", entry: { path: "made.txt" } });
    client.send({ type: "file.remove", id: "rm", path: "src", recursive: true });
    expect(await reply(client, "rm")).toEqual({ type: "file.remove.result", id: "rm" });
    client.send({ type: "file.stat", id: "s", path: "src" });
    expect(await reply(client, "s")).toMatchObject({ type: "error", code: "not_found" });
  });

  test("a watch sees what a command does in the workspace", async () => {
    await using client = await connect(server);
    client.send({ type: "file.watch", id: "w", path: ".", recursive: true });
    expect(await reply(client, "w")).toEqual({ type: "file.watch.ready", id: "w", path: "." });
    await client.exec({ id: "e", cmd: "mkdir -p a/b && echo x > a/b/c" });
    const seen: string[] = [];
    while (!seen.includes("create a/b/c")) {
      const batch = await reply(client, "w");
      if (batch.type === "file.watch.events") seen.push(...batch.events.map((event) => `${event.type} ${event.path}`));
    }
    expect(seen).toContain("create a");
  });

  test("a file request that breaks the schema is bad_message and names the field", async () => {
    await using client = await connect(server);
    client.send({ type: "file.read", id: "1", path: "x", offset: -1 });
    expect(await reply(client, "1")).toEqual({ type: "error", id: "1", code: "bad_message", message: "offset: must be >= 0" });
    client.send({ type: "file.write", id: "2", path: "x" });
    expect(await reply(client, "2")).toMatchObject({ type: "error", code: "bad_message", message: expect.stringContaining("data") });
    client.send({ type: "file.stat", id: "3", path: "a\0b" });
    expect(await reply(client, "3")).toEqual({ type: "error", id: "3", code: "bad_message", message: "path: must not contain NUL" });
  });

  test(
    "100 MiB go up and come back byte-exact over the socket, a slow reader included, with bounded server memory",
    async () => {
      const rss = sampleRss(server.pid);
      const peer = Bun.spawn(["node", join(import.meta.dir, "peers", "transfer-peer.mjs"), server.url, server.token!, "big/file.bin", String(BIG_BYTES), "2000"], {
        stdout: "pipe",
        stderr: "inherit",
      });
      const lines = (await new Response(peer.stdout).text()).trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
      await peer.exited;
      const growthMb = rss.stop() / MB;
      const byEvent = Object.fromEntries(lines.map((line) => [line["event"], line]));
      expect(byEvent["error"]).toBeUndefined();
      const uploaded = byEvent["uploaded"] as { bytes: number; sha256: string; seconds: number; maxUnacked: number; windowBytes: number };
      const downloaded = byEvent["downloaded"] as { bytes: number; sha256: string; seconds: number; contiguous: boolean };
      expect(uploaded.bytes).toBe(BIG_BYTES);
      expect(uploaded.maxUnacked).toBeLessThanOrEqual(uploaded.windowBytes);
      expect(downloaded).toMatchObject({ bytes: BIG_BYTES, contiguous: true, sha256: uploaded.sha256 });
      expect(byEvent["paused"]).toBeDefined();
      console.log(
        `100 MiB over WebSocket: upload ${(BIG_BYTES / MB / uploaded.seconds).toFixed(0)} MB/s, ` +
          `download ${(BIG_BYTES / MB / downloaded.seconds).toFixed(0)} MB/s including a 2 s pause; server RSS growth ${growthMb.toFixed(1)} MB`,
      );
      // Base64 JSON churns the heap: 37-68 MB measured on a loaded 2-core machine, flat from 100 to 300 MB.
      expect(growthMb).toBeLessThan(96);
    },
    120_000,
  );

  test(
    "100 MiB go up with curl PUT and come back with a rate-limited curl GET and a Range resume, byte-exact, with bounded server memory",
    async () => {
      await using client = await connect(server);
      const scratch = mkdtempSync(join(tmpdir(), "bunker-curl-"));
      try {
        const source = join(scratch, "source.bin");
        writeFileSync(source, randomBytes(BIG_BYTES));
        const sourceSha = await sha256OfFile(source);
        const url = `http://127.0.0.1:${server.port}/files/curl/big.bin?session=${client.hello.session}`;
        // The token, and the resume secret that an anonymous session's files need.
        const auth = ["-H", `Authorization: Bearer ${server.token}`];
        const rss = sampleRss(server.pid);
        let started = performance.now();
        const put = Bun.spawnSync(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", source, ...auth, url]);
        const putSeconds = (performance.now() - started) / 1000;
        expect(put.stdout.toString()).toBe("201");
        expect(await sha256OfFile(join(client.hello.workspace, "curl/big.bin"))).toBe(sourceSha);
        const fetched = join(scratch, "fetched.bin");
        started = performance.now();
        const get = Bun.spawnSync(["curl", "-sS", "--limit-rate", "40M", "-o", fetched, "-w", "%{http_code}", ...auth, url]);
        const getSeconds = (performance.now() - started) / 1000;
        expect(get.stdout.toString()).toBe("200");
        writeFileSync(fetched, readFileSync(fetched).subarray(0, 30 * MB));
        const resumed = Bun.spawnSync(["curl", "-sS", "-C", "-", "-o", fetched, "-w", "%{http_code}", ...auth, url]);
        expect(resumed.stdout.toString()).toBe("206");
        const growthMb = rss.stop() / MB;
        expect(statSync(fetched).size).toBe(BIG_BYTES);
        expect(await sha256OfFile(fetched)).toBe(sourceSha);
        console.log(
          `100 MiB over HTTP: PUT ${(BIG_BYTES / MB / putSeconds).toFixed(0)} MB/s, GET ${(BIG_BYTES / MB / getSeconds).toFixed(0)} MB/s ` +
            `(curl --limit-rate 40M); server RSS growth ${growthMb.toFixed(1)} MB`,
        );
        // Base64 JSON churns the heap: 37-68 MB measured on a loaded 2-core machine, flat from 100 to 300 MB.
      expect(growthMb).toBeLessThan(96);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
    120_000,
  );

  test(
    "a sandboxed command flipping a directory and a symlink to / for 2.5 s never gets the server to read or write outside",
    async () => {
      await using client = await connect(server);
      const marker = `bunker-e2e-race-${randomBytes(6).toString("hex")}`;
      await client.exec({ id: "setup", cmd: "mkdir -p D/etc D/tmp && printf INSIDE > D/etc/passwd && ln -s / L" });
      client.send({ type: "exec", id: "flip", argv: ["perl", "-e", 'while (1) { rename "D","flip"; rename "flip","D"; rename "L","flip"; rename "flip","L" }'], timeoutMs: 3000 });
      expect(await reply(client, "flip")).toMatchObject({ type: "started" });
      const outcomes: Record<string, number> = {};
      const escapes: string[] = [];
      const end = performance.now() + 2500;
      let n = 0;
      while (performance.now() < end) {
        const id = String(++n);
        client.send({ type: "file.read", id: `r${id}`, path: "flip/etc/passwd" });
        client.send({ type: "file.write", id: `w${id}`, path: `flip/tmp/${marker}`, data: "x", parents: false });
        client.send({ type: "file.list", id: `l${id}`, path: "flip/etc" });
        for (const prefix of ["r", "w", "l"]) {
          const answer = await reply(client, `${prefix}${id}`);
          const key = `${prefix}:${answer.type === "error" ? answer.code : "ok"}`;
          outcomes[key] = (outcomes[key] ?? 0) + 1;
          if (answer.type === "file.read.result" && answer.data !== "INSIDE") escapes.push(`read ${JSON.stringify(answer.data.slice(0, 30))}`);
          if (answer.type === "file.list.result" && answer.entries.some((entry) => entry.name !== "passwd")) escapes.push("list of the real /etc");
        }
      }
      await client.runToExit("flip");
      if (existsSync(join("/tmp", marker))) escapes.push(`/tmp/${marker} was written`);
      rmSync(join("/tmp", marker), { force: true });
      console.log(`e2e symlink race: ${n * 3} requests, outcomes ${JSON.stringify(outcomes)}`);
      expect(escapes).toEqual([]);
      expect(outcomes["r:ok"]).toBeGreaterThan(0);
      expect(outcomes["r:path_outside_workspace"]).toBeGreaterThan(0);
    },
    30_000,
  );
});
