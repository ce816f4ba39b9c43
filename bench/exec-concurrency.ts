/**
 * Exec throughput with 8 commands in flight under bwrap, beside in-process Bun.spawn of the same
 * argv at the same concurrency, alternating round by round.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openBunker } from "./lib/bunker-client.ts";
import { startBunker } from "./lib/bunker-server.ts";
import { prepareSandbox, runBareSpawn } from "./lib/sandbox-spawn.ts";
import { runAsOf } from "./lib/server-features.ts";
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
  const scratch = mkdtempSync(join(tmpdir(), "bunker-bench-concurrency-"));
  stack.defer(() => rmSync(scratch, { recursive: true, force: true }));
  let sandbox;
  try {
    sandbox = await prepareSandbox("bwrap", scratch);
  } catch (error) {
    return [notMeasured(ID, what, (error as Error).message, TARGET)];
  }
  stack.defer(() => sandbox.dispose());
  const server = stack.use(await startBunker(context, { args: ["--sandbox", "bwrap"] }));
  const client = await openBunker(server.url, server.token);
  stack.defer(() => client.close());
  const command = sandbox.buildCommand(ARGV, client.hello.workspace);

  let id = 0;
  const bunkerJob = async () => {
    const exit = await client.exec({ id: `c${id++}`, argv: ARGV });
    if (exit.code !== 0) throw new Error(`echo exited ${JSON.stringify(exit)}`);
  };
  const runAs = runAsOf(client.hello.workspace);
  const bareJob = () => runBareSpawn(command, runAs);

  const perRound = context.quick ? 48 : 160;
  const rounds = context.quick ? 2 : 5;
  await throughput(CONCURRENCY * 2, CONCURRENCY, bunkerJob);
  await throughput(CONCURRENCY * 2, CONCURRENCY, bareJob);
  const bunkerRates: number[] = [];
  const bareRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const runBunker = async () => bunkerRates.push(await throughput(perRound, CONCURRENCY, bunkerJob));
    const runBare = async () => bareRates.push(await throughput(perRound, CONCURRENCY, bareJob));
    for (const step of round % 2 === 0 ? [runBunker, runBare] : [runBare, runBunker]) await step();
    context.log(`concurrency: round ${round + 1}/${rounds} done`);
  }
  const bunkerRate = median(bunkerRates);
  const bareRate = median(bareRates);
  return [
    {
      bench: ID,
      what,
      measured: `${bunkerRate.toFixed(0)} execs/s; ${(bunkerRate / bareRate).toFixed(2)}× bare`,
      beside: `bare Bun.spawn: ${bareRate.toFixed(0)} execs/s`,
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
    `it, ${CONCURRENCY} in-process Bun.spawn loops run the same bwrap argv. The two alternate round by round (160 execs a round);`,
    "the table shows each one's median rate.",
  ].join("\n"),
  run,
};
