/** The results table, and docs/BENCHMARKS.md around it. */
import { formatTable } from "./stats.ts";
import type { Benchmark, ResultRow } from "./types.ts";

const HEADER = ["row", "what", "bunker", "beside it, same run", "target", "result"];

/** The one table every run prints, markdown-compatible. */
export function formatResults(rows: readonly ResultRow[]): string {
  return formatTable(
    HEADER,
    rows.map((row) => [row.bench, row.what, row.measured, row.beside, row.target, row.result]),
  );
}

/** The figures still waiting for a feature: the rows that say "not measured: needs …". */
export function pendingRows(rows: readonly ResultRow[]): ResultRow[] {
  return rows.filter((row) => row.measured.startsWith("not measured: needs"));
}

export interface ReportInput {
  rows: readonly ResultRow[];
  benchmarks: readonly Benchmark[];
  machine: readonly [string, string][];
  /** Wall-clock seconds of the whole run. */
  seconds: number;
  quick: boolean;
}

/** docs/BENCHMARKS.md: how to run, where it ran, the table, and how each row is measured. */
export function renderBenchmarksMarkdown(input: ReportInput): string {
  const passed = input.rows.filter((row) => row.result === "PASS").length;
  const missed = input.rows.filter((row) => row.result === "MISS").length;
  const pending = pendingRows(input.rows);
  return [
    "# Benchmarks",
    "",
    "Written by `npm run bench` (`bun bench/run.ts`); do not edit by hand. `npm run bench -- --only echo,stream`",
    "runs some rows, `--quick` runs fewer rounds, `--server dist/bunker` measures a built binary instead of the",
    "source; those runs print their table without writing this file unless given `--write`.",
    "",
    "Every figure is the median of repeated runs, and each peer ran in the same run as bunker, interleaved or",
    "alternating with it. This machine is shared and noisy: compare the ratios within one table, not figures across",
    "runs.",
    "",
    ...input.machine.map(([label, value]) => `- ${label}: ${value}`),
    `- run: ${input.quick ? "quick mode (fewer rounds; not for publishing)" : "full"}, ${input.seconds.toFixed(0)} s; ${passed} PASS, ${missed} MISS`,
    "",
    formatResults(input.rows),
    "",
    ...(pending.length > 0
      ? ["Waiting for features:", "", ...pending.map((row) => `- ${row.what}: ${row.measured.replace("not measured: ", "")}`), ""]
      : []),
    "## How each row is measured",
    "",
    ...input.benchmarks.flatMap((benchmark) => [benchmark.method, ""]),
  ].join("\n");
}
