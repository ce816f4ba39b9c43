/**
 * Round trip of `echo hi` over one persistent connection, beside a bare in-process Bun.spawn of the
 * very same sandbox argv and beside websocketd running the same bwrap argv, all sampled in turn in
 * the same run. Standalone: bun bench/echo-roundtrip.ts [samplesPerRound]
 */
import { dirname, join } from "node:path";
import { openBunker } from "./lib/bunker-client.ts";
import { startBunker } from "./lib/bunker-server.ts";
import { sampleInRounds, type Contender } from "./lib/rounds.ts";
import { runAsOf, type BenchRunAs } from "./lib/server-features.ts";
import { peerSpawnOf, prepareSandbox, runBareSpawn } from "./lib/sandbox-spawn.ts";
import { hasWebsocketd, startWebsocketd } from "./lib/websocketd.ts";
import { startBunExecServer } from "./lib/bun-exec-server.ts";
import { BUN } from "../test/helpers/server-process.ts";
import { formatMs, formatPercentiles, printTable, type Percentiles } from "./stats.ts";
import { notMeasured, verdict, type BenchContext, type Benchmark, type ResultRow } from "./types.ts";

const ID = "echo";
const ECHO_ARGV = ["echo", "hi"];

/** bunker's server with the core bwrap policy only: from source, whatever --server says (the binary has no such setting). */
const CORE_POLICY_SERVER = [BUN, join(import.meta.dir, "peers", "bunker-core-policy.ts")];

/**
 * The server configurations measured, one entry each: no sandbox; bwrap with the core policy
 * (namespaces, mounts, the reaper); bwrap with everything a default server applies. A new policy is
 * one more entry here and one more row below.
 */
const SANDBOX_VARIANTS: { id: string; serverArgs: string[]; backend: "bwrap" | "none"; policy: "full" | "core"; command?: string[] }[] = [
  { id: "none", serverArgs: ["--sandbox", "none"], backend: "none", policy: "full" },
  { id: "core", serverArgs: ["--sandbox", "bwrap"], backend: "bwrap", policy: "core", command: CORE_POLICY_SERVER },
  { id: "bwrap", serverArgs: ["--sandbox", "bwrap"], backend: "bwrap", policy: "full" },
];

/** A target as a test of bunker's figure against its peer's, both medians of the same run. */
interface Target {
  text: string;
  met(subject: Percentiles, peer: Percentiles): boolean;
  /** The derived figure the target is about, shown after bunker's own. */
  detail(subject: Percentiles, peer: Percentiles): string;
}

const AT_MOST_HALF_A_MS_OVER_BARE: Target = {
  text: "p50 ≤ bare spawn + 0.5 ms",
  met: (subject, peer) => subject.p50 - peer.p50 <= 0.5,
  detail: (subject, peer) => `${subject.p50 >= peer.p50 ? "+" : "−"}${formatMs(Math.abs(subject.p50 - peer.p50))} over bare`,
};

const FASTER_THAN_PEER: Target = {
  text: "p50 below websocketd's",
  met: (subject, peer) => subject.p50 < peer.p50,
  detail: (subject, peer) => `${(subject.p50 / peer.p50).toFixed(2)}× websocketd`,
};

/**
 * The rows: bunker's contender beside a peer's, against a target; `floor` adds a contender shown
 * beside the peer without being judged (what any server in its own process pays).
 */
const FLOOR_LABEL = "bare Bun.serve + the same spawn, own process";
const ROWS: { what: string; subject: string; peer: string; peerLabel: string; floor?: string; target: Target }[] = [
  { what: "echo hi round trip, --sandbox none", subject: "bunker:none", peer: "bare:none", peerLabel: "bare Bun.spawn", floor: "bunserve:none", target: AT_MOST_HALF_A_MS_OVER_BARE },
  {
    what: "echo hi round trip, bwrap, core policy (namespaces, mounts, reaper)",
    subject: "bunker:core",
    peer: "bare:core",
    peerLabel: "bare Bun.spawn",
    floor: "bunserve:core",
    target: AT_MOST_HALF_A_MS_OVER_BARE,
  },
  { what: "echo hi round trip, bwrap, full policy (the default)", subject: "bunker:bwrap", peer: "bare:bwrap", peerLabel: "bare Bun.spawn", floor: "bunserve:bwrap", target: AT_MOST_HALF_A_MS_OVER_BARE },
  {
    what: "echo hi, bwrap, vs websocketd (a connection per command, its model)",
    subject: "bunker:bwrap",
    peer: "websocketd:connection",
    peerLabel: "websocketd",
    target: FASTER_THAN_PEER,
  },
  {
    what: "echo hi, bwrap, a new bunker connection per command too, vs websocketd",
    subject: "bunker-new-connection:bwrap",
    peer: "websocketd:connection",
    peerLabel: "websocketd",
    target: FASTER_THAN_PEER,
  },
  {
    what: "echo hi, bwrap, one connection each, vs websocketd + sh read loop",
    subject: "bunker:bwrap",
    peer: "websocketd:loop",
    peerLabel: "websocketd + sh",
    target: FASTER_THAN_PEER,
  },
];

/** The shell loop behind websocketd's persistent variant: one line in, the bwrap argv ("$@") once, its exit code out. */
const SH_READ_LOOP = 'while read -r _; do "$@" </dev/null; echo "exit $?"; done';

/** One WebSocket connection to websocketd that runs the command, read until websocketd closes it. */
function websocketdConnectionSample(url: string): Promise<number> {
  const started = performance.now();
  const ws = new WebSocket(url);
  let output = "";
  return new Promise((resolve, reject) => {
    ws.addEventListener("message", (event) => {
      output += String(event.data);
    });
    ws.addEventListener("close", () => {
      const ms = performance.now() - started;
      if (output === "hi") resolve(ms);
      else reject(new Error(`websocketd sent ${JSON.stringify(output)} instead of "hi"`));
    });
  });
}

/** A persistent connection to websocketd's shell loop: each line sent runs the command once. */
async function openWebsocketdLoop(url: string): Promise<{ sample(): Promise<number>; close(): void }> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("websocketd loop: connection failed")), { once: true });
  });
  let waiting: { lines: string[]; resolve(lines: string[]): void } | undefined;
  ws.addEventListener("message", (event) => {
    if (!waiting) return;
    waiting.lines.push(String(event.data));
    if (String(event.data).startsWith("exit ")) waiting.resolve(waiting.lines);
  });
  return {
    async sample() {
      const { promise, resolve } = Promise.withResolvers<string[]>();
      waiting = { lines: [], resolve };
      const started = performance.now();
      ws.send("run");
      const lines = await promise;
      const ms = performance.now() - started;
      waiting = undefined;
      if (lines.join("\n") !== "hi\nexit 0") throw new Error(`websocketd loop sent ${JSON.stringify(lines)}`);
      return ms;
    },
    close: () => ws.close(),
  };
}

async function run(context: BenchContext, samplesPerRound = context.quick ? 30 : 100): Promise<ResultRow[]> {
  await using stack = new AsyncDisposableStack();
  const contenders: Contender[] = [];
  const missing = new Map<string, string>();
  let bwrapWorkspace: { workspace: string; argv: string[]; env: Record<string, string>; runAs: BenchRunAs | undefined } | undefined;

  for (const variant of SANDBOX_VARIANTS) {
    try {
      const server = stack.use(await startBunker(context, { args: [...variant.serverArgs], ...(variant.command && { command: variant.command }) }));
      const client = await openBunker(server.url, server.token);
      stack.defer(() => client.close());
      // Detected for the server's workspace root and user, as the server's own sandbox was.
      const sandbox = await prepareSandbox(variant.backend, dirname(client.hello.workspace), variant.policy, runAsOf(client.hello.workspace));
      stack.defer(() => sandbox.dispose());
      let n = 0;
      contenders.push({
        id: `bunker:${variant.id}`,
        async sample() {
          const started = performance.now();
          const exit = await client.exec({ id: `e${n++}`, argv: ECHO_ARGV });
          if (exit.code !== 0) throw new Error(`echo exited ${JSON.stringify(exit)}`);
          return performance.now() - started;
        },
      });
      const command = sandbox.buildCommand(ECHO_ARGV, client.hello.workspace);
      const runAs = runAsOf(client.hello.workspace);
      contenders.push({
        id: `bare:${variant.id}`,
        async sample() {
          const started = performance.now();
          await runBareSpawn(command, runAs);
          return performance.now() - started;
        },
      });
      const floor = stack.use(await startBunExecServer(command, runAs));
      contenders.push({ id: `bunserve:${variant.id}`, sample: () => floor.sample() });
      if (variant.id === "bwrap") {
        bwrapWorkspace = { workspace: client.hello.workspace, ...peerSpawnOf(command), runAs };
        contenders.push({
          id: "bunker-new-connection:bwrap",
          async sample() {
            const started = performance.now();
            const fresh = await openBunker(server.url, server.token);
            const exit = await fresh.exec({ id: "e", argv: ECHO_ARGV });
            const ms = performance.now() - started;
            if (exit.code !== 0) throw new Error(`echo exited ${JSON.stringify(exit)}`);
            await fresh.close();
            return ms;
          },
        });
      }
    } catch (error) {
      for (const prefix of ["bunker", "bare", "bunker-new-connection", "bunserve"]) missing.set(`${prefix}:${variant.id}`, (error as Error).message);
    }
  }

  if (!hasWebsocketd()) {
    for (const id of ["websocketd:connection", "websocketd:loop"]) missing.set(id, "websocketd is not installed (apt-get install websocketd)");
  } else if (!bwrapWorkspace) {
    for (const id of ["websocketd:connection", "websocketd:loop"]) missing.set(id, "bwrap does not work here");
  } else {
    const { workspace, argv, env, runAs } = bwrapWorkspace;
    const perConnection = stack.use(await startWebsocketd({ argv, env, cwd: workspace, runAs }));
    contenders.push({ id: "websocketd:connection", sample: () => websocketdConnectionSample(perConnection.url) });
    const looping = stack.use(await startWebsocketd({ argv: ["/bin/sh", "-c", SH_READ_LOOP, "sh", ...argv], env, cwd: workspace, runAs }));
    const loop = await openWebsocketdLoop(looping.url);
    stack.defer(() => loop.close());
    contenders.push({ id: "websocketd:loop", sample: () => loop.sample() });
  }

  const rounds = context.quick ? 3 : 5;
  context.log(`echo: ${contenders.length} contenders, ${rounds} rounds of ${samplesPerRound} samples each, interleaved`);
  const figures = await sampleInRounds(contenders, {
    rounds,
    samplesPerRound,
    warmup: 10,
    onRound: (round) => context.log(`echo: round ${round + 1}/${rounds} done`),
  });

  return ROWS.map((row): ResultRow => {
    const subject = figures.get(row.subject);
    const peer = figures.get(row.peer);
    if (!subject || !peer) {
      return notMeasured(ID, row.what, missing.get(row.subject) ?? missing.get(row.peer) ?? "contender missing", row.target.text);
    }
    return {
      bench: ID,
      what: row.what,
      measured: `${formatPercentiles(subject)}; ${row.target.detail(subject, peer)}`,
      beside: [`${row.peerLabel}: ${formatPercentiles(peer)}`, ...(row.floor && figures.get(row.floor) ? [`${FLOOR_LABEL}: ${formatPercentiles(figures.get(row.floor)!)}`] : [])].join("; "),
      target: row.target.text,
      result: verdict(row.target.met(subject, peer)),
    };
  });
}

export const echoRoundTrip: Benchmark = {
  id: ID,
  method: [
    "**echo hi round trip.** One bunker server per sandbox setting, each with one persistent connection; a sample is",
    "`exec` sent → `exit` received. The settings: `--sandbox none`; bwrap with the *core policy* (namespaces, mounts,",
    "the workspace bind and the reaper: bunker's own server code started through bench/peers/bunker-core-policy.ts,",
    "always from source, since no setting of the binary drops the hardening); bwrap with the *full policy*, everything a",
    "default server applies (the seccomp filter, resource limits set by the reaper, protected paths, the size cap on",
    "/tmp, run-as when root). *Bare Bun.spawn* is the same argv, environment, cwd and stdio that bunker spawns for that",
    "setting (built by the same backend code, limits and all; test/bench/bare-spawn-argv.test.ts holds the two equal),",
    "spawned in the benchmark process: read stdout, wait for the exit. Under bwrap that exit comes after bwrap has torn",
    "the namespaces down; bunker's `exit` does not wait for it (it comes when the sandbox is empty: the command's output",
    "ends and the reaper's record is there, docs/DESIGN.md), which is worth 0.4 to 0.9 ms here. Every contender takes one",
    "sample in turn (the order rotates), so machine noise hits all alike; each",
    "round gives a p50 and a p99 per contender, and the table shows the median over rounds.",
    "",
    "*websocketd* runs one process per connection: that is its only way to run a command, so its round trip is",
    "connect → upgrade → its process runs the bwrap argv → `hi` arrives → websocketd closes the connection when the",
    "process has exited (for bunker, `exit` means the command and all it started are gone). Three comparisons follow from that:",
    "bunker as it is used (one connection, many execs) against websocketd's model; bunker with a new connection per",
    "command too (connect, `hello`, exec, `exit`: the same work as websocketd's, plus creating the session's workspace);",
    "and websocketd given a persistent connection the only way it can be, a `sh` read loop that runs the argv once per",
    "line and prints its exit code. websocketd runs the same bwrap argv as bunker minus the flags that read a file",
    "descriptor websocketd cannot pass its child: `--json-status-fd 3` (bwrap refuses a missing one), `--seccomp 5`",
    "(loading the filter costs bwrap microseconds; wrapping bwrap in a shell to open it would cost websocketd a whole",
    "extra exec) and `--args 6`, the command's environment, which websocketd's bwrap gets as its own instead. Its access log is off, as bunker logs nothing per connection. When bunker runs its commands as",
    "another user (`--run-as`: nobody, for a server running as root), the bare spawn and websocketd (through `setpriv`)",
    "run as that user too. All clients are Bun's WebSocket in the benchmark process.",
  ].join("\n"),
  run: (context) => run(context),
};

if (import.meta.main) {
  const samples = process.argv[2] ? Number(process.argv[2]) : undefined;
  const serverCommand = process.env["BUNKER_BENCH_SERVER"] ? [process.env["BUNKER_BENCH_SERVER"]] : undefined;
  const rows = await run({ quick: false, serverCommand, log: (line) => console.error(line) }, samples);
  printTable(["what", "bunker", "beside it", "target", "result"], rows.map((row) => [row.what, row.measured, row.beside, row.target, row.result]));
}
