#!/usr/bin/env bun
/**
 * `npm run bench`: runs every benchmark of bench/ (or `--only` some), prints one table and writes it
 * to docs/BENCHMARKS.md with the machine, the date and the commit. See bench/options.ts for flags.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../test/helpers/server-process.ts";
import { binaryStart } from "./binary-start.ts";
import { echoRoundTrip } from "./echo-roundtrip.ts";
import { withDeadline } from "./lib/deadline.ts";
import { terminateChildren } from "./lib/proc.ts";
import { execConcurrency } from "./exec-concurrency.ts";
import { idleSessions } from "./idle-sessions.ts";
import { describeMachine } from "./machine.ts";
import { BENCH_HELP, resolveBenchOptions } from "./options.ts";
import { ptyFlood } from "./pty-flood.ts";
import { formatResults, pendingRows, renderBenchmarksMarkdown } from "./report.ts";
import { slowClient } from "./slow-client.ts";
import { streamThroughput } from "./stream-throughput.ts";
import type { BenchContext, Benchmark, ResultRow } from "./types.ts";

/** A benchmark still running after this long is cut off and reported as an ERROR row. */
const BENCHMARK_DEADLINE_MS = 180_000;

/** Every benchmark, in table order. A new benchmark is one more entry. */
const BENCHMARKS: readonly Benchmark[] = [echoRoundTrip, streamThroughput, slowClient, execConcurrency, idleSessions, ptyFlood, binaryStart];

/**
 * The order they run in: the binary's start first, on a quiet machine. After thousands of bwrap
 * sandboxes the kernel tears their network namespaces down for a while (kworker threads on both
 * cores), which measured the start 8 ms slower when it ran last.
 */
const RUN_FIRST: readonly Benchmark[] = [binaryStart];

async function main(argv: string[]): Promise<number> {
  const ids = BENCHMARKS.map((benchmark) => benchmark.id);
  const options = resolveBenchOptions(argv, ids);
  if (options === "help") {
    process.stdout.write(BENCH_HELP.replace("IDS", ids.join(", ")));
    return 0;
  }
  const selected = options.only ? BENCHMARKS.filter((benchmark) => options.only!.includes(benchmark.id)) : BENCHMARKS;
  const context: BenchContext = {
    quick: options.quick,
    serverCommand: options.serverCommand,
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  };
  const machine = await describeMachine();
  const started = performance.now();
  const rowsOf = new Map<Benchmark, ResultRow[]>();
  const runOrder = [...RUN_FIRST.filter((benchmark) => selected.includes(benchmark)), ...selected.filter((benchmark) => !RUN_FIRST.includes(benchmark))];
  for (const benchmark of runOrder) {
    const rows: ResultRow[] = [];
    rowsOf.set(benchmark, rows);
    context.log(`${benchmark.id}: starting`);
    const benchStarted = performance.now();
    try {
      rows.push(...(await withDeadline(benchmark.run(context), BENCHMARK_DEADLINE_MS, `the ${benchmark.id} benchmark`)));
    } catch (error) {
      // One broken benchmark must not hide the others' figures: it becomes a row of its own.
      rows.push({ bench: benchmark.id, what: "(the benchmark failed)", measured: (error as Error).message, beside: "", target: "", result: "ERROR" });
      const stopped = await terminateChildren();
      if (stopped > 0) context.log(`${benchmark.id}: stopped ${stopped} process(es) it left running`);
    }
    context.log(`${benchmark.id}: ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`);
  }
  const rows = selected.flatMap((benchmark) => rowsOf.get(benchmark) ?? []);
  const seconds = (performance.now() - started) / 1000;

  console.log(machine.map(([label, value]) => `${label}: ${value}`).join("\n"));
  console.log(`${options.quick ? "quick run" : "full run"}, ${seconds.toFixed(0)} s\n`);
  console.log(formatResults(rows));
  const pending = pendingRows(rows);
  if (pending.length > 0) console.log(`\nwaiting for features: ${pending.map((row) => `${row.what} (${row.measured.replace("not measured: ", "")})`).join("; ")}`);

  if (options.write) {
    const file = join(REPO_ROOT, "docs", "BENCHMARKS.md");
    writeFileSync(file, renderBenchmarksMarkdown({ rows, benchmarks: selected, machine, seconds, quick: options.quick }));
    console.log(`\nwritten to docs/BENCHMARKS.md`);
  } else {
    console.log("\nnot written to docs/BENCHMARKS.md (a partial run; --write writes it anyway)");
  }
  return rows.some((row) => row.result === "ERROR") ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(error instanceof TypeError ? 2 : 1);
  },
);
