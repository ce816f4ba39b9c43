/**
 * A client that stops reading for 5 s in the middle of 1 GB: are bytes lost, how much does the
 * server's memory grow, and is the command blocked meanwhile (backpressure) or left running?
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBunForwarder } from "./lib/bun-forwarder.ts";
import { peerSpawnOf, prepareSandbox, type BenchSandbox } from "./lib/sandbox-spawn.ts";
import { openBunker } from "./lib/bunker-client.ts";
import { startBunker } from "./lib/bunker-server.ts";
import { hasBinaryFrames } from "./lib/server-features.ts";
import { findDescendantsNamed, readRssBytes, readWrittenBytes } from "./lib/proc.ts";
import { formatMiB, median } from "./stats.ts";
import { notMeasured, verdict, type BenchContext, type Benchmark, type ResultRow } from "./types.ts";

const ID = "slow-client";
const TOTAL_BYTES = 1_000_000_000;
const PAUSE_AFTER_BYTES = 100_000_000;
const PAUSE_MS = 5000;
const MAX_RSS_GROWTH_BYTES = 16 * 1024 * 1024;
/** The command may keep writing while the socket buffers and the 1 MiB queue fill, but not for long. */
const BLOCKED_WITHIN_MS = 1000;
const PEER = join(import.meta.dir, "peers", "paused-reader.mjs");
const STREAM_ARGV = ["head", "-c", String(TOTAL_BYTES), "/dev/zero"];

/** The encodings measured, one entry each: a slow client costs each one differently. */
const ENCODINGS = ["base64", "binary"] as const;
type Encoding = (typeof ENCODINGS)[number];

interface PeerEvent {
  event: "paused" | "resumed" | "done" | "error";
  received?: number;
  intact?: boolean;
  gapBytes?: number;
  exit?: { code: number | null; reason: string } | null;
  message?: string;
}

/** What one round found. */
interface RoundFacts {
  lostBytes: number;
  /** Of the lost bytes, those the server announced with `gap`. */
  gapBytes: number;
  intact: boolean;
  rssGrowthBytes: number;
  /** How long after the client stopped reading the command made its last write; Infinity if it never stopped. */
  stoppedWritingAfterMs: number;
  /** Where the command sleeps in the kernel in the middle of the pause, e.g. sock_alloc_send_pskb. */
  wchan: string;
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
}

function readWchan(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/wchan`, "utf8") || "running";
  } catch {
    return "gone";
  }
}

/**
 * Samples the command's written bytes from the client's pause until shortly before its resume: the
 * window ends early so that the resumed stream is never mistaken for writes during the pause.
 */
async function watchCommand(serverPid: number): Promise<{ stoppedWritingAfterMs: number; wchan: string }> {
  const pausedAt = performance.now();
  const windowEnd = pausedAt + PAUSE_MS - 250;
  const [pid] = findDescendantsNamed(serverPid, "head");
  if (pid === undefined) return { stoppedWritingAfterMs: NaN, wchan: "command not found" };
  let last = readWrittenBytes(pid);
  let lastChangeAt = pausedAt;
  let wchan = "";
  while (performance.now() < windowEnd) {
    await Bun.sleep(50);
    const now = performance.now();
    const written = readWrittenBytes(pid);
    if (written !== last) {
      last = written;
      lastChangeAt = now;
    }
    if (!wchan && now - pausedAt >= PAUSE_MS / 2) wchan = readWchan(pid);
  }
  // Still writing at the end of the window means it never stopped.
  const stoppedWritingAfterMs = windowEnd - lastChangeAt < 200 ? Infinity : lastChangeAt - pausedAt;
  return { stoppedWritingAfterMs, wchan };
}

/** A server under test: bunker, or the bare forwarder beside it. */
interface Streamer {
  pid: number;
  url: string;
  token: string | undefined;
}

/** One paused client against `streamer`, reading `mode` ("raw": the forwarder, which has no protocol). */
async function measureRound(streamer: Streamer, mode: Encoding | "raw"): Promise<RoundFacts> {
  const rssBefore = readRssBytes(streamer.pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, readRssBytes(streamer.pid) || 0);
  }, 50);
  try {
    const peer = Bun.spawn(["node", PEER, streamer.url, JSON.stringify(STREAM_ARGV), mode, String(PAUSE_AFTER_BYTES), String(PAUSE_MS)], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", BUNKER_TOKEN: streamer.token ?? "" },
      stdout: "pipe",
      stderr: "inherit",
    });
    let watching: ReturnType<typeof watchCommand> | undefined;
    let done: PeerEvent | undefined;
    for await (const line of lines(peer.stdout)) {
      const event = JSON.parse(line) as PeerEvent;
      if (event.event === "paused") watching = watchCommand(streamer.pid);
      else if (event.event !== "resumed") done = event;
    }
    await peer.exited;
    if (!done || done.event !== "done") throw new Error(`the paused reader failed: ${done?.message ?? "no summary"}`);
    if (done.exit?.code !== 0) throw new Error(`the stream's command ended ${JSON.stringify(done.exit)}`);
    const watched = watching ? await watching : { stoppedWritingAfterMs: NaN, wchan: "never paused" };
    return {
      lostBytes: TOTAL_BYTES - (done.received ?? 0),
      gapBytes: done.gapBytes ?? 0,
      intact: done.intact === true,
      rssGrowthBytes: rssPeak - rssBefore,
      ...watched,
    };
  } finally {
    clearInterval(sampler);
  }
}

async function bunkerRound(context: BenchContext, encoding: Encoding): Promise<RoundFacts> {
  await using server = await startBunker(context, { args: ["--sandbox", "bwrap"] });
  return await measureRound({ pid: server.pid, url: server.url, token: server.token }, encoding);
}

/**
 * The floor: the bare Bun.serve forwarder (peers/bun-forwarder.ts: Bun.spawn's stdout to
 * sendBinary, or to bunker's JSON output messages in base64, bunker's water marks, nothing else)
 * running the same command under the same bwrap argv, a fresh one each round like bunker.
 */
async function forwarderRound(sandbox: BenchSandbox, workspace: string, encoding: Encoding): Promise<RoundFacts> {
  const command = sandbox.buildCommand(STREAM_ARGV, workspace);
  await using forwarder = await startBunForwarder({ ...peerSpawnOf(command), cwd: workspace, encoding });
  return await measureRound({ pid: forwarder.pid, url: forwarder.url, token: undefined }, "raw");
}

/** Whether the server under test sends binary frames; asked once, of a throwaway server. */
async function serverHasBinaryFrames(context: BenchContext): Promise<boolean> {
  await using server = await startBunker(context, { args: ["--sandbox", "bwrap"] });
  const client = await openBunker(server.url, server.token);
  try {
    return await hasBinaryFrames(client);
  } finally {
    await client.close();
  }
}

function rowsFor(encoding: Encoding, facts: readonly RoundFacts[], floor: readonly RoundFacts[]): ResultRow[] {
  const worstLost = Math.max(...facts.map((fact) => fact.lostBytes));
  const worstGap = Math.max(...facts.map((fact) => fact.gapBytes));
  const allIntact = facts.every((fact) => fact.intact);
  const rssGrowth = median(facts.map((fact) => fact.rssGrowthBytes));
  const stoppedAfter = median(facts.map((fact) => fact.stoppedWritingAfterMs));
  const what = `1 GB, ${encoding === "base64" ? "base64 JSON" : "binary frames"}, bwrap; the client stops reading for 5 s after 100 MB`;
  const rounds = `${facts.length} round${facts.length === 1 ? "" : "s"}`;
  const integrity = allIntact ? "offsets contiguous, every byte intact" : `NOT byte-exact${worstGap > 0 ? `: gaps announced over ${worstGap} bytes` : ": a hole, an overlap or wrong bytes"}`;
  return [
    {
      bench: ID,
      what: `${what}: bytes lost`,
      measured: `${worstLost} bytes (worst of ${rounds}); ${integrity}`,
      beside: "",
      target: "0 bytes lost, byte-exact",
      result: verdict(worstLost === 0 && allIntact),
    },
    {
      bench: ID,
      what: `${what}: server RSS growth`,
      measured: `+${formatMiB(rssGrowth)} peak over the idle server (median of ${rounds}: ${facts.map((fact) => formatMiB(fact.rssGrowthBytes)).join(", ")})`,
      beside: floor.length > 0 ? `bare Bun.serve forwarder, ${encoding === "base64" ? "base64 JSON" : "binary"}, same command and pause: ${describeGrowth(floor)}` : "",
      target: "≤ +16 MiB",
      result: verdict(rssGrowth <= MAX_RSS_GROWTH_BYTES),
    },
    {
      bench: ID,
      what: `${what}: the command blocked meanwhile`,
      measured: Number.isFinite(stoppedAfter)
        ? `yes: no write after ${(stoppedAfter / 1000).toFixed(2)} s into the pause; asleep in ${[...new Set(facts.map((fact) => fact.wchan))].join(", ")} (median of ${rounds})`
        : `no: it kept writing through the pause (${facts.map((fact) => fact.wchan).join(", ")})`,
      beside: "",
      target: `blocked within ${BLOCKED_WITHIN_MS / 1000} s of the pause`,
      result: verdict(stoppedAfter <= BLOCKED_WITHIN_MS),
    },
  ];
}

/** The floor's RSS growth, or why it has none: a forwarder that lost bytes or never blocked measured something else. */
function describeGrowth(floor: readonly RoundFacts[]): string {
  const broken = floor.find((fact) => fact.lostBytes !== 0 || !fact.intact || !Number.isFinite(fact.stoppedWritingAfterMs));
  if (broken) return `not comparable (lost ${broken.lostBytes} bytes, blocked: ${Number.isFinite(broken.stoppedWritingAfterMs)})`;
  return `+${formatMiB(median(floor.map((fact) => fact.rssGrowthBytes)))} (${floor.map((fact) => formatMiB(fact.rssGrowthBytes)).join(", ")})`;
}

async function run(context: BenchContext): Promise<ResultRow[]> {
  await using stack = new AsyncDisposableStack();
  const binary = await serverHasBinaryFrames(context);
  const encodings: Encoding[] = ENCODINGS.filter((encoding) => encoding !== "binary" || binary);
  const scratch = mkdtempSync(join(tmpdir(), "bunker-bench-slow-"));
  stack.defer(() => rmSync(scratch, { recursive: true, force: true }));
  const sandbox = await prepareSandbox("bwrap", scratch).catch((error: Error) => {
    context.log(`slow-client: no bwrap for the forwarder beside bunker (${error.message})`);
    return undefined;
  });
  if (sandbox) stack.defer(() => sandbox.dispose());
  const rounds = context.quick ? 1 : 3;
  const facts = new Map<Encoding, RoundFacts[]>(encodings.map((encoding) => [encoding, []]));
  const floor = new Map<Encoding, RoundFacts[]>(encodings.map((encoding) => [encoding, []]));
  for (let round = 0; round < rounds; round++) {
    for (const encoding of encodings) {
      facts.get(encoding)!.push(await bunkerRound(context, encoding));
      if (sandbox) floor.get(encoding)!.push(await forwarderRound(sandbox, scratch, encoding));
    }
    context.log(`slow-client: round ${round + 1}/${rounds} done`);
  }
  const rows = encodings.flatMap((encoding) => rowsFor(encoding, facts.get(encoding)!, floor.get(encoding)!));
  if (!binary) rows.push(notMeasured(ID, "1 GB, binary frames, bwrap; the client stops reading for 5 s after 100 MB", "needs binary frames", "0 lost; ≤ +16 MiB; blocked within 1 s"));
  return rows;
}

export const slowClient: Benchmark = {
  id: ID,
  method: [
    "**A client that stops reading.** A Node client with the real `ws` package (`ws.pause()` stops reading the",
    "socket; Bun's WebSocket cannot) runs `head -c 1000000000 /dev/zero` under bwrap, once with",
    "`encoding: \"base64\"` and once with binary frames (when the server has them), a fresh server each time; it",
    "stops reading for 5 s after 100 MB, then reads on to the `exit`. Lost bytes: 1 GB minus what the client",
    "received, with offsets checked for holes, `gap` messages counted, and every byte checked. Server RSS: `VmRSS` of the server process every",
    "50 ms, peak minus the idle server before the client connected. Blocked: the command's `wchar` (bytes passed to",
    "`write()`, from `/proc/PID/io`) every 50 ms from the pause until 0.25 s before the resume; the row gives how",
    "far into the pause its last write came (the pipe and socket buffers and the 1 MiB queue fill first) and the kernel",
    "function it then sleeps in (`wchan`: the command writes a real pipe, so a blocked writer sleeps in `pipe_write`;",
    "the forwarder's is Bun.spawn's \"pipe\", a socketpair: `sock_alloc_send_pskb`). Beside each RSS row, the same client reads the bare Bun.serve",
    "forwarder (peers/bun-forwarder.ts) running the same command under the same bwrap argv, a fresh one each round, sending",
    "binary frames or, beside the base64 row, bunker's JSON `output` messages (64 KiB of raw bytes each, base64):",
    "the RSS growth of Bun.spawn, Bun.serve and bunker's water marks with nothing of bunker's own. Text costs more than",
    "binary frames in Bun: every base64 message is a new JavaScript string of 87 KB, whose memory returns only when the",
    "collector sweeps it (a full collection every 8 MB held bunker's growth to ~+21 MiB but cost ~5 ms each, a quarter",
    "of the streaming time; an eden collection, a smaller JavaScriptCore heap or `--smol` changed nothing).",
  ].join("\n"),
  run,
};
