import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startServer, REPO_ROOT } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

test.skipIf(noBwrap)(
  "200 MB in base64 arrive byte-exact while the client stops reading for 3 s, with bounded server memory",
  async () => {
    await using server = await startServer({ args: ["--sandbox", "bwrap"] });
    const rssBefore = rssBytes(server.pid);
    const peer = Bun.spawn(
      ["node", join(REPO_ROOT, "test", "peers", "stream-reader.mjs"), server.url, server.token!, "head -c 200000000 /dev/zero", "50000000", process.env["PAUSE_MS"] ?? "3000"],
      { stdout: "pipe", stderr: "inherit" },
    );
    // Sample the server's RSS while the peer runs: the peak is what matters.
    let peakRss = rssBefore;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssBytes(server.pid));
    }, 50);
    const started = performance.now();
    const output = await new Response(peer.stdout).text();
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    await peer.exited;
    const events = output.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    const done = events.find((event) => event["event"] === "done")!;
    expect(events.map((event) => event["event"])).toEqual(["paused", "resumed", "done"]);
    expect(done).toMatchObject({ total: 200_000_000, contiguous: true, errors: [], exit: { code: 0, reason: "exited" } });
    const growthMb = (peakRss - rssBefore) / 1e6;
    console.log(`200 MB base64 stream: ${(200 / seconds).toFixed(0)} MB/s including a 3 s pause; server RSS growth ${growthMb.toFixed(1)} MB`);
    expect(growthMb).toBeLessThan(64);
  },
  60_000,
);
