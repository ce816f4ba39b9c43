/**
 * Exec throughput with 8 commands in flight under bwrap, beside in-process Bun.spawn of the same
 * argv at the same concurrency, and beside the floor of any server in a process of its own (a bare
 * Bun.serve that makes the same spawn per message), taking turns round by round.
 */
import { dirname } from "node:path";
import { openBunker } from "./lib/bunker-client.ts";
import { startBunker } from "./lib/bunker-server.ts";
import { prepareSandbox, runBareSpawn } from "./lib/sandbox-spawn.ts";
import { runAsOf } from "./lib/server-features.ts";
import { startBunExecServer } from "./lib/bun-exec-server.ts";
import { median } from "./stats.ts";
import { notMeasured, verdict, type BenchContext, type Benchmark, type ResultRow } from "./types.ts";

const ID = "concurrency";
const CONCURRENCY = 8;
const ARGV = ["echo", "hi"];
const TARGET = "≥ 0.95× bare Bun.spawn";

/** Runs `total` jobs with `concurrency` in flight; returns jobs per second. */
async function throughput(total: number, concurrency: number, job: (n: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) await job(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return total / ((performance.now() - started) / 1000);
}

async function run(context: BenchContext): Promise<ResultRow[]> {
  const what = `exec throughput, ${CONCURRENCY} in flight, bwrap`;
  await using stack = new AsyncDisposableStack();
  const server = stack.use(await startBunker(context, { args: ["--sandbox", "bwrap"] }));
  const client = await openBunker(server.url, server.token);
  stack.defer(() => client.close());
  let sandbox;
  try {
    // Detected for the server's workspace root and user, as the server's own sandbox was.
    sandbox = await prepareSandbox("bwrap", dirname(client.hello.workspace), "full", runAsOf(client.hello.workspace));
  } catch (error) {
    return [notMeasured(ID, what, (error as Error).message, TARGET)];
  }
  stack.defer(() => sandbox.dispose());
  const command = sandbox.buildCommand(ARGV, client.hello.workspace);

  let id = 0;
  const bunkerJob = async () => {
    const exit = await client.exec({ id: `c${id++}`, argv: ARGV });
    if (exit.code !== 0) throw new Error(`echo exited ${JSON.stringify(exit)}`);
  };
  const runAs = runAsOf(client.hello.workspace);
  const bareJob = () => runBareSpawn(command, runAs);
  const floor = stack.use(await startBunExecServer(command, runAs));
  const floorJob = async () => void (await floor.sample());

  const perRound = context.quick ? 48 : 160;
  const rounds = context.quick ? 2 : 5;
  await throughput(CONCURRENCY * 2, CONCURRENCY, bunkerJob);
  await throughput(CONCURRENCY * 2, CONCURRENCY, bareJob);
  await throughput(CONCURRENCY * 2, CONCURRENCY, floorJob);
  const contenders = [
    { job: bunkerJob, rates: [] as number[] },
    { job: bareJob, rates: [] as number[] },
    { job: floorJob, rates: [] as number[] },
  ];
  for (let round = 0; round < rounds; round++) {
    // The order rotates, so that no contender always runs right after the same other one.
    for (let turn = 0; turn < contenders.length; turn++) {
      const { job, rates } = contenders[(round + turn) % contenders.length]!;
      rates.push(await throughput(perRound, CONCURRENCY, job));
    }
    context.log(`concurrency: round ${round + 1}/${rounds} done`);
  }
  const [bunkerRate, bareRate, floorRate] = contenders.map(({ rates }) => median(rates)) as [number, number, number];
  return [
    {
      bench: ID,
      what,
      measured: `${bunkerRate.toFixed(0)} execs/s; ${(bunkerRate / bareRate).toFixed(2)}× bare`,
      beside: `bare Bun.spawn: ${bareRate.toFixed(0)} execs/s; bare Bun.serve + the same spawn, own process: ${floorRate.toFixed(0)} execs/s (${(floorRate / bareRate).toFixed(2)}×)`,
      target: TARGET,
      result: verdict(bunkerRate >= 0.95 * bareRate),
    },
  ];
}

export const execConcurrency: Benchmark = {
  id: ID,
  method: [
    `**Exec throughput at concurrency ${CONCURRENCY}.** \`echo hi\` under bwrap, ${CONCURRENCY} execs in flight at all times over one`,
    "connection (one session; its limit is 16), counted from the first `exec` sent to the last `exit` received. Beside",
    `it, ${CONCURRENCY} in-process Bun.spawn loops run the same bwrap argv, and, as a floor that is not judged, the bare`,
    "Bun.serve of the echo rows in a process of its own, sent the same",
    `${CONCURRENCY} requests at a time. The three take turns round by round, the order rotating (160 execs a round); the table`,
    "shows each one's median rate.",
  ].join("\n"),
  run,
};
