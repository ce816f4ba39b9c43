/** The compiled binary: its size, how fast a warm start reaches "listening", and its idle RSS. */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { BUN, REPO_ROOT } from "../test/helpers/server-process.ts";
import { resolveBuildCommit } from "../build/build-commit.ts";
import { readRssBytes } from "./lib/proc.ts";
import { peerSpawnOf, prepareSandbox } from "./lib/sandbox-spawn.ts";
import { defaultRunAs } from "../src/sandbox/run-as.ts";
import { formatMiB, formatMs, median } from "./stats.ts";
import { verdict, type BenchContext, type Benchmark, type ResultRow } from "./types.ts";

const ID = "binary";
const BINARY = join(REPO_ROOT, "dist", "bunker");
const START_TARGET_MS = 15;
const IDLE_RSS_TARGET_BYTES = 30 * 1024 * 1024;
/** How long a started server is left alone before its idle RSS is read. */
const SETTLE_MS = 1000;

/** The start-up settings measured, one entry each. */
const START_VARIANTS = [
  { label: "default (makes bwrap's setup namespace, probes bwrap once through it)", args: [] as string[] },
  { label: "--sandbox none (no probe)", args: ["--sandbox", "none"] },
];

/** Starts the binary, returns the time from spawn to its listening line and, if asked, its RSS once settled. */
async function startOnce(binary: string, dir: string, args: string[], readRss: boolean, env: Record<string, string> = {}): Promise<{ ms: number; rss: number }> {
  const started = performance.now();
  const proc = Bun.spawn([binary, "serve", "--port", "0", "--workspace-root", join(dir, "workspaces"), ...args], {
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, BUNKER_TOKEN: "bench-token-0123456789abcdef", ...env },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  try {
    const decoder = new TextDecoder();
    let stderr = "";
    let ms = NaN;
    for await (const chunk of proc.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      if (/listening on ws:\/\//.test(stderr)) {
        ms = performance.now() - started;
        break;
      }
    }
    if (Number.isNaN(ms)) throw new Error(`the binary exited before listening: ${stderr.trim()}`);
    if (!readRss) return { ms, rss: NaN };
    await Bun.sleep(SETTLE_MS);
    return { ms, rss: readRssBytes(proc.pid) };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

/** Two throwaway starts, then `starts` timed ones; the first `rssReadings` of them also read the idle RSS. */
async function startSeries(
  binary: string,
  dir: string,
  args: string[],
  starts: number,
  rssReadings: number,
  env: Record<string, string> = {},
): Promise<{ times: number[]; rss: number[] }> {
  for (let i = 0; i < 2; i++) await startOnce(binary, dir, args, false, env);
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < starts; i++) {
    const started = await startOnce(binary, dir, args, i < rssReadings, env);
    times.push(started.ms);
    if (i < rssReadings && !Number.isNaN(started.rss)) rss.push(started.rss);
  }
  return { times, rss };
}

/**
 * The floor of a server that proves its sandbox before it listens: the minimal server running the
 * probe's command first (`/bin/true` under the same bwrap argv as bunker's execs, as the uid
 * commands run as, without the fd-passed extras websocketd cannot take either; see peerSpawnOf).
 * A median start as text, or why it was not measured.
 */
async function probingFloorStart(floorBinary: string, dir: string, starts: number): Promise<string> {
  const workspaces = join(dir, "probe-workspaces");
  mkdirSync(workspaces, { mode: 0o711 });
  const sandbox = await prepareSandbox("bwrap", workspaces).catch((error: unknown) => error as Error);
  if (sandbox instanceof Error) return `not measured (${sandbox.message})`;
  try {
    const workspace = join(workspaces, "probe");
    mkdirSync(workspace, { mode: 0o700 });
    // As bunker's: commands of a root server run as nobody, in a workspace of theirs.
    const runAs = defaultRunAs(process.geteuid?.() ?? -1);
    if (runAs) chownSync(workspace, runAs.uid, runAs.gid);
    const probe = { ...peerSpawnOf(sandbox.buildCommand(["/bin/true"], workspace)), cwd: workspace, runAs };
    const { times } = await startSeries(floorBinary, dir, [], starts, 0, { BENCH_PROBE: JSON.stringify(probe) });
    return formatMs(median(times));
  } finally {
    sandbox.dispose();
  }
}

async function run(context: BenchContext): Promise<ResultRow[]> {
  if (!existsSync(BINARY)) {
    context.log("binary: dist/bunker is missing; building it with bun build.ts");
    await execa(BUN, ["build.ts"], { cwd: REPO_ROOT, timeout: 120_000 });
  }
  const version = (await execa(BINARY, ["--version"])).stdout.trim();
  const head = await resolveBuildCommit(REPO_ROOT);
  // dist/ is not rebuilt when it exists: say so when it was built from another commit (or another state of the work tree's).
  const stale = head !== "unknown" && !version.includes(`(${head})`) ? `; built from another commit than the work tree's, ${head}` : "";
  const dir = mkdtempSync(join(tmpdir(), "bunker-bench-binary-"));
  // A server running as root runs commands as another uid, which must pass through to the workspaces.
  chmodSync(dir, 0o711);
  try {
    const starts = context.quick ? 5 : 20;
    const rssReadings = context.quick ? 2 : 5;
    const rows: ResultRow[] = [
      {
        bench: ID,
        what: "binary size (dist/bunker, this machine's target)",
        measured: `${formatMiB(statSync(BINARY).size)} (${version}${stale})`,
        beside: "",
        target: "none set",
        result: "n/a",
      },
    ];
    // The floor: a minimal Bun.serve compiled the same way (minified, bytecode), started the same way.
    const floorBinary = join(dir, "minimal-server");
    await execa(BUN, ["build", "--compile", "--minify", "--bytecode", join(import.meta.dir, "peers", "minimal-server.ts"), "--outfile", floorBinary], { timeout: 120_000 });
    const floor = await startSeries(floorBinary, dir, [], starts, rssReadings);
    const floorStart = `minimal compiled Bun.serve: ${formatMs(median(floor.times))}`;
    const probingFloor = await probingFloorStart(floorBinary, dir, starts);

    let idleRss: number[] = [];
    for (const variant of START_VARIANTS) {
      // The idle RSS is read from the default start.
      const { times, rss } = await startSeries(BINARY, dir, variant.args, starts, variant === START_VARIANTS[0] ? rssReadings : 0);
      if (variant === START_VARIANTS[0]) idleRss = rss;
      const startMs = median(times);
      rows.push({
        bench: ID,
        what: `warm start to "listening", ${variant.label}`,
        measured: `${formatMs(startMs)} (median of ${starts}; fastest ${formatMs(Math.min(...times))})`,
        beside: variant === START_VARIANTS[0] ? `${floorStart}; the same, running the same bwrap probe first: ${probingFloor}` : floorStart,
        target: `≤ ${START_TARGET_MS} ms`,
        result: verdict(startMs <= START_TARGET_MS),
      });
      context.log(`binary: ${variant.label} done`);
    }
    const rss = median(idleRss);
    rows.push({
      bench: ID,
      what: "idle RSS of the binary, listening, no session",
      measured: `${formatMiB(rss)} (median of ${idleRss.length}, ${SETTLE_MS / 1000} s after listening)`,
      beside: `minimal compiled Bun.serve: ${formatMiB(median(floor.rss))}`,
      target: "≤ 30 MiB",
      result: verdict(rss <= IDLE_RSS_TARGET_BYTES),
    });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const binaryStart: Benchmark = {
  id: ID,
  method: [
    "**The binary.** `dist/bunker` (built with `bun build.ts` when missing; its `--version` names the commit).",
    "Warm start: two throwaway starts, then 20 timed ones of `bunker serve --port 0`, from `Bun.spawn` to the",
    "`listening` line on its stderr; the default start runs the bwrap probe (one sandboxed `/bin/true`), so",
    "`--sandbox none` is shown beside it. Idle RSS: `VmRSS` 1 s after `listening`, no client, median of 5.",
    "Beside both, the floor: bench/peers/minimal-server.ts (a Bun.serve with a WebSocket handler and nothing",
    "else, writing its line with Bun's stderr writer as bunker does), compiled in the same run the way build.ts",
    "compiles bunker (minified, bytecode) and measured the same way. Beside the default start also the same",
    "minimal server running the same probe first (`/bin/true` under the bwrap argv of bunker's execs, as the uid",
    "commands run as) before it listens: the floor of a server that proves its sandbox before it says it listens,",
    "as bunker does by design. Of bunker's start beyond the plain floor, about 10 ms is the bwrap probe and the",
    "rest loading and evaluating its own code (node:fs alone adds ~1.5 ms and ~5 MiB of the binary's pages to an",
    "empty program; see DESIGN.md, Startup). These rows run",
    "first: after the other rows' thousands of sandboxes the kernel is still tearing their namespaces down.",
  ].join("\n"),
  run,
};
