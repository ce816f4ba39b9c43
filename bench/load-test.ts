/**
 * Load test: many concurrent sessions, each running a mix of short and streaming commands for a
 * while, through the real client library against a real server. Not a timed test: run it by hand.
 *
 *   bun bench/load-test.ts [--sessions 50] [--seconds 60] [--seed 1] [--url ws://host:port/ws --token T]
 *
 * Without --url it starts `bunker serve` from source on port 0 (sandbox auto, an audit line per
 * exec and connection on stderr, read and dropped here, as in production). It
 * prints, per kind of command, the success rate and the exec latency (from `exec` sent to `exit`
 * received), the errors (the target is none), and the server's memory over time from /metrics
 * (the target is flat).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connect, type ExecCommand, type Session } from "../src/client/index.ts";

const { values: flags } = parseArgs({
  options: {
    sessions: { type: "string", default: "50" },
    seconds: { type: "string", default: "60" },
    seed: { type: "string", default: "1" },
    url: { type: "string" },
    token: { type: "string" },
  },
});
const SESSIONS = Number(flags.sessions);
const SECONDS = Number(flags.seconds);
if (!Number.isInteger(SESSIONS) || SESSIONS < 1 || !Number.isFinite(SECONDS) || SECONDS <= 0) {
  console.error(`load-test: --sessions must be a whole number >= 1 and --seconds a number > 0 (got ${JSON.stringify(flags.sessions)}, ${JSON.stringify(flags.seconds)})`);
  process.exit(2);
}

/** One kind of command, and how to tell that it did what it should. */
interface Workload {
  name: string;
  kind: "short" | "streaming";
  command: ExecCommand;
  /** Bytes of stdout a correct run produces. */
  stdoutBytes: number;
  weight: number;
}

const SEQ_BYTES = Array.from({ length: 100_000 }, (_, index) => `${index + 1}\n`).join("").length;
const WORKLOADS: Workload[] = [
  { name: "echo", kind: "short", command: ["echo", "hello"], stdoutBytes: 6, weight: 30 },
  { name: "true", kind: "short", command: ["true"], stdoutBytes: 0, weight: 15 },
  { name: "sh pipe", kind: "short", command: "printf 'a\\nb\\nc\\n' | wc -l", stdoutBytes: 2, weight: 15 },
  { name: "seq 100k", kind: "streaming", command: ["seq", "1", "100000"], stdoutBytes: SEQ_BYTES, weight: 15 },
  { name: "1 MiB", kind: "streaming", command: "head -c 1048576 /dev/zero", stdoutBytes: 1_048_576, weight: 15 },
  { name: "ticks", kind: "streaming", command: "for i in 1 2 3 4 5; do echo tick $i; sleep 0.1; done", stdoutBytes: 35, weight: 10 },
];

function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickWorkload(random: () => number): Workload {
  let roll = random() * WORKLOADS.reduce((sum, workload) => sum + workload.weight, 0);
  for (const workload of WORKLOADS) if ((roll -= workload.weight) < 0) return workload;
  return WORKLOADS[0]!;
}

/** The server under test: started here, or given with --url. */
async function startTarget(): Promise<{ url: string; token: string; metricsUrl: string; stop(): Promise<void> }> {
  if (flags.url) {
    const metrics = new URL(flags.url.replace(/^ws/, "http"));
    metrics.pathname = "/metrics";
    return { url: flags.url, token: flags.token ?? "", metricsUrl: metrics.href, stop: async () => {} };
  }
  const token = "load-test-token-0123456789";
  const workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-load-ws-"));
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "..", "src", "main.ts"), "serve", "--port", "0", "--token", token, "--workspace-root", workspaceRoot, "--log-format", "json", "--max-execs", String(Math.max(64, SESSIONS * 2))], {
    stderr: "pipe",
    stdout: "ignore",
  });
  const reader = proc.stderr.getReader();
  let stderr = "";
  let port: number | undefined;
  while (port === undefined) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the server exited: ${stderr}`);
    stderr += new TextDecoder().decode(value);
    const match = /listening on ws:\/\/[^:]+:(\d+)\//.exec(stderr);
    if (match) port = Number(match[1]);
  }
  // Keep reading so that the server never blocks on stderr; keep only the warnings.
  void (async () => {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const text = new TextDecoder().decode(next.value);
      if (text.includes('"level":"warn"') || text.includes('"level":"error"')) stderr += text;
    }
  })();
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    token,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(workspaceRoot, { recursive: true, force: true });
      const warnings = stderr.split("\n").filter((line) => /"level":"(warn|error)"/.test(line)).map((line) => JSON.parse(line).msg ?? line);
      if (warnings.length > 0) console.log(warnings.join("\n"));
    },
  };
}

interface Result {
  workload: Workload;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

async function runSession(url: string, token: string, index: number, deadline: number, results: Result[]): Promise<string | undefined> {
  const random = createRandom(Number(flags.seed) * 1000 + index);
  let session: Session;
  try {
    session = await connect(url, { token });
  } catch (error) {
    return `session ${index}: ${(error as Error).message}`;
  }
  while (Date.now() < deadline) {
    const workload = pickWorkload(random);
    const sentAt = performance.now();
    try {
      const handle = session.exec(workload.command);
      const [stdout, exit] = await Promise.all([handle.stdout.readAll(), handle.exited]);
      const ok = exit.code === 0 && stdout.length === workload.stdoutBytes;
      results.push({
        workload,
        ok,
        latencyMs: performance.now() - sentAt,
        ...(!ok && { error: `${workload.name}: exit ${JSON.stringify(exit)}, ${stdout.length} of ${workload.stdoutBytes} bytes` }),
      });
    } catch (error) {
      results.push({ workload, ok: false, latencyMs: performance.now() - sentAt, error: `${workload.name}: ${(error as Error).message}` });
    }
  }
  await session.close();
  return undefined;
}

/** Samples of the server's /metrics: RSS, sessions, running and finished execs. */
interface MemorySample {
  atSeconds: number;
  rssMiB: number;
  sessions: number;
  running: number;
  finished: number;
  /** Cumulative buckets of bunker_exec_start_seconds: [upper bound in seconds, count]. */
  startBuckets: [number, number][];
}

async function sampleMetrics(metricsUrl: string, token: string, startedAt: number): Promise<MemorySample | undefined> {
  try {
    const text = await (await fetch(metricsUrl, { headers: { authorization: `Bearer ${token}` } })).text();
    const value = (pattern: RegExp) => [...text.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0);
    return {
      atSeconds: Math.round((Date.now() - startedAt) / 1000),
      rssMiB: value(/^process_resident_memory_bytes (\S+)$/gm) / 1024 / 1024,
      sessions: value(/^bunker_sessions\{[^}]*\} (\S+)$/gm),
      running: value(/^bunker_execs_running (\S+)$/gm),
      finished: value(/^bunker_execs_finished_total\{[^}]*\} (\S+)$/gm),
      startBuckets: [...text.matchAll(/^bunker_exec_start_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map((match) => [Number(match[1]), Number(match[2])]),
    };
  } catch {
    return undefined;
  }
}

/** The bucket bound under which `fraction` of the histogram's observations fall. */
function bucketPercentile(buckets: [number, number][], fraction: number): number {
  const total = buckets.at(-1)?.[1] ?? 0;
  return buckets.find(([, count]) => count >= fraction * total)?.[0] ?? Number.NaN;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

function table(rows: (string | number)[][]): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === "number" ? (Number.isInteger(cell) ? String(cell) : cell.toFixed(1)) : cell)));
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ")).join("\n");
}

const target = await startTarget();
const startedAt = Date.now();
const deadline = startedAt + SECONDS * 1000;
const results: Result[] = [];
const memory: MemorySample[] = [];
const first = await sampleMetrics(target.metricsUrl, target.token, startedAt);
if (first) memory.push(first);
const sampleEveryMs = Math.max(1000, (SECONDS * 1000) / 12);
const sampler = setInterval(async () => {
  const sample = await sampleMetrics(target.metricsUrl, target.token, startedAt);
  if (sample) memory.push(sample);
}, sampleEveryMs);
console.log(`bunker load test: ${SESSIONS} sessions for ${SECONDS} s against ${target.url}`);
const sessionFailures = (await Promise.all(Array.from({ length: SESSIONS }, (_, index) => runSession(target.url, target.token, index, deadline, results)))).filter((failure) => failure !== undefined);
clearInterval(sampler);
const last = await sampleMetrics(target.metricsUrl, target.token, startedAt);
if (last) memory.push(last);
await target.stop();

const elapsedSeconds = (Date.now() - startedAt) / 1000;
const rows: (string | number)[][] = [["kind", "execs", "ok", "success %", "p50 ms", "p99 ms", "max ms", "execs/s"]];
for (const [label, filter] of [
  ...WORKLOADS.map((workload) => [`  ${workload.name}`, (result: Result) => result.workload === workload] as const),
  ["short", (result: Result) => result.workload.kind === "short"] as const,
  ["streaming", (result: Result) => result.workload.kind === "streaming"] as const,
  ["all", () => true] as const,
]) {
  const picked = results.filter(filter);
  const latencies = picked.map((result) => result.latencyMs).sort((a, b) => a - b);
  const ok = picked.filter((result) => result.ok).length;
  rows.push([label, picked.length, ok, picked.length ? (100 * ok) / picked.length : 0, percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.at(-1) ?? Number.NaN, picked.length / elapsedSeconds]);
}
console.log(`\n${table(rows)}`);
const errors = [...sessionFailures, ...results.filter((result) => !result.ok).map((result) => result.error ?? "failed")];
console.log(`\nerrors: ${errors.length}${errors.length ? `\n  ${[...new Set(errors)].slice(0, 10).join("\n  ")}` : ""}`);
if (memory.length > 0) {
  console.log(`\nserver over time (from /metrics)\n${table([["t s", "RSS MiB", "sessions", "running", "finished"], ...memory.map((sample) => [sample.atSeconds, sample.rssMiB, sample.sessions, sample.running, sample.finished])])}`);
  // The first half fills each session's store of finished output (8 MiB a session, fixed; some 40 s
  // for 50 sessions on two cores); after it, RSS moves with garbage collection. Flat means: the
  // later half of that window holds no more on average than the earlier half.
  const steady = memory.filter((sample) => sample.atSeconds >= SECONDS / 2 && sample.atSeconds < SECONDS);
  if (steady.length >= 2) {
    const mean = (samples: MemorySample[]) => samples.reduce((sum, sample) => sum + sample.rssMiB, 0) / samples.length;
    const half = Math.floor(steady.length / 2);
    const rss = steady.map((sample) => sample.rssMiB);
    console.log(
      `RSS from ${steady[0]!.atSeconds} s on: min ${Math.min(...rss).toFixed(1)} MiB, max ${Math.max(...rss).toFixed(1)} MiB; mean ${mean(steady.slice(0, half)).toFixed(1)} MiB in the earlier half, ${mean(steady.slice(half)).toFixed(1)} MiB in the later`,
    );
  }
  console.log(`finished output a session keeps: 8 MiB, so ${SESSIONS} sessions may hold ${SESSIONS * 8} MiB of it by design`);
  const buckets = memory.at(-1)!.startBuckets;
  if (buckets.length > 0) {
    console.log(`server-side exec start (request to started), from its histogram: p50 <= ${bucketPercentile(buckets, 0.5) * 1000} ms, p99 <= ${bucketPercentile(buckets, 0.99) * 1000} ms`);
  }
}
process.exit(errors.length === 0 ? 0 : 1);
