/**
 * PTY `yes` flood: a terminal program that prints as fast as it can. How fast does it arrive, does
 * the server's memory stay bounded, and does a Ctrl-C typed into the flood still end it promptly?
 */
import { openBunker, type BunkerConnection } from "./lib/bunker-client.ts";
import { startBunker } from "./lib/bunker-server.ts";
import { readRssBytes } from "./lib/proc.ts";
import { withDeadline } from "./lib/deadline.ts";
import { hasBinaryFrames, probePtyExecs } from "./lib/server-features.ts";
import { formatMiB, formatMs, formatRate, median } from "./stats.ts";
import { notMeasured, verdict, type BenchContext, type Benchmark, type ResultRow } from "./types.ts";

const ID = "pty";
const FLOOD_MS = 3000;
const MAX_RSS_GROWTH_BYTES = 16 * 1024 * 1024;
/** Proposed here, not in the issue: an interrupt should feel immediate even under a flood. */
const CTRL_C_TARGET_MS = 100;
const CTRL_C = "\x03";
/** After this long without an exit, a Ctrl-C counts as not having ended the flood. */
const CTRL_C_DEADLINE_MS = 10_000;

interface FloodFacts {
  bytesPerSecond: number;
  /** Infinity when no exit came within CTRL_C_DEADLINE_MS. */
  ctrlCToExitMs: number;
  rssGrowthBytes: number;
  signal: string | null;
}

async function floodOnce(client: BunkerConnection, serverPid: number, id: string, encoding: "binary" | "base64"): Promise<FloodFacts> {
  const rssBefore = readRssBytes(serverPid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, readRssBytes(serverPid) || 0);
  }, 50);
  let received = 0;
  const started = Promise.withResolvers<void>();
  try {
    const exit = client.exec(
      { id, argv: ["yes"], pty: { cols: 80, rows: 24 }, encoding },
      {
        onStarted: () => started.resolve(),
        onOutput: (chunk) => {
          received += typeof chunk.data === "string" ? Buffer.byteLength(chunk.data, "base64") : chunk.data.byteLength;
        },
      },
    );
    await started.promise;
    await Bun.sleep(FLOOD_MS);
    const floodBytes = received;
    const ctrlCAt = performance.now();
    client.send({ type: "stdin", id, data: CTRL_C });
    const facts = await withDeadline(exit, CTRL_C_DEADLINE_MS, "the flood after Ctrl-C").catch(() => undefined);
    if (!facts) {
      // Stop the runaway flood as well as the protocol allows; the server's own exit ends the rest.
      client.send({ type: "signal", id, signal: "SIGKILL" });
    }
    return {
      bytesPerSecond: floodBytes / (FLOOD_MS / 1000),
      ctrlCToExitMs: facts ? performance.now() - ctrlCAt : Infinity,
      rssGrowthBytes: rssPeak - rssBefore,
      signal: facts ? facts.signal : "no exit",
    };
  } finally {
    clearInterval(sampler);
  }
}

/** The sandbox settings measured, one entry each. */
const SANDBOX_VARIANTS = [
  { label: "bwrap", args: ["--sandbox", "bwrap"] },
  { label: "--sandbox none", args: ["--sandbox", "none"] },
];

async function runVariant(context: BenchContext, variant: (typeof SANDBOX_VARIANTS)[number]): Promise<ResultRow[] | "refused"> {
  const what = `PTY \`yes\` flood, 80×24, ${variant.label}`;
  await using server = await startBunker(context, { args: variant.args });
  const client = await openBunker(server.url, server.token);
  try {
    const pty = await probePtyExecs(client);
    if (pty === "refused") return "refused";
    if (pty !== "supported") {
      return [{ bench: ID, what, measured: `broken: ${pty.broken}`, beside: "", target: "a PTY exec runs to its exit", result: "MISS" }];
    }
    const encoding = (await hasBinaryFrames(client)) ? "binary" : "base64";
    const rounds = context.quick ? 1 : 3;
    const facts: FloodFacts[] = [];
    for (let round = 0; round < rounds; round++) {
      const fact = await floodOnce(client, server.pid, `yes-${round}`, encoding);
      facts.push(fact);
      context.log(`pty: ${variant.label}, round ${round + 1}/${rounds} done`);
      // A flood that Ctrl-C did not end may still be running: further rounds would measure both.
      if (!Number.isFinite(fact.ctrlCToExitMs)) break;
    }
    const rate = median(facts.map((fact) => fact.bytesPerSecond));
    const ctrlC = median(facts.map((fact) => fact.ctrlCToExitMs));
    const rss = median(facts.map((fact) => fact.rssGrowthBytes));
    const signals = [...new Set(facts.map((fact) => fact.signal ?? "none"))].join(", ");
    const measuredRounds = facts.length;
    const label = `${what}, ${encoding === "binary" ? "binary frames" : "base64 JSON"}`;
    return [
      { bench: ID, what: `${label}: output rate`, measured: `${formatRate(rate)} (median of ${measuredRounds})`, beside: "", target: "none set", result: "n/a" },
      {
        bench: ID,
        what: `${label}: Ctrl-C typed into the flood, to exit`,
        measured: Number.isFinite(ctrlC)
          ? `${formatMs(ctrlC)} (median of ${measuredRounds}; ended by ${signals})`
          : `no exit within ${CTRL_C_DEADLINE_MS / 1000} s: the flood went on`,
        beside: "",
        target: `≤ ${CTRL_C_TARGET_MS} ms (proposed)`,
        result: verdict(ctrlC <= CTRL_C_TARGET_MS && facts.every((fact) => fact.signal === "SIGINT")),
      },
      {
        bench: ID,
        what: `${label}: server RSS growth`,
        measured: `+${formatMiB(rss)} peak (median of ${measuredRounds})`,
        beside: "",
        target: "≤ +16 MiB (as for pipes)",
        result: verdict(rss <= MAX_RSS_GROWTH_BYTES),
      },
    ];
  } finally {
    await client.close();
  }
}

async function run(context: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const variant of SANDBOX_VARIANTS) {
    const result = await runVariant(context, variant);
    if (result === "refused") return [notMeasured(ID, "PTY `yes` flood", "needs PTY execs", `Ctrl-C to exit ≤ ${CTRL_C_TARGET_MS} ms; RSS ≤ +16 MiB`)];
    rows.push(...result);
  }
  return rows;
}

export const ptyFlood: Benchmark = {
  id: ID,
  method: [
    "**PTY `yes` flood.** `yes` on an 80×24 pseudo-terminal, under bwrap and with `--sandbox none` (binary frames",
    "when the server has them; a probe runs `tty` on a PTY first, and a PTY exec that never exits is a MISS),",
    "read as fast as the Bun client can. Rate: bytes received in the first 3 s. Then the client types Ctrl-C",
    "(`stdin` with `\\u0003`, as a terminal does) and times it to the `exit`, which comes after every byte still",
    "buffered; the exec must end by SIGINT. Server RSS: peak `VmRSS` during the flood minus before it. The issue",
    "sets no target for this row; the two here are proposals. A server without PTY execs gets \"not measured\".",
  ].join("\n"),
  run,
};
