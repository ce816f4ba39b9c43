/** One line of the results table: what was measured, beside what, against which target. */
export interface ResultRow {
  /** The benchmark's id, as `--only` takes it. */
  bench: string;
  what: string;
  /** bunker's figure, or "not measured: <why>". */
  measured: string;
  /** The peer's figure from the same run; "" when the row has no peer. */
  beside: string;
  target: string;
  result: Verdict;
}

/**
 * PASS or MISS against the target; "n/a" for a row that was not measured or has no target;
 * ERROR when the benchmark itself failed (its message is in `measured`).
 */
export type Verdict = "PASS" | "MISS" | "n/a" | "ERROR";

/** What every benchmark gets: the mode of the run and where to report progress. */
export interface BenchContext {
  /** Fewer rounds and smaller counts: a smoke run, not figures to publish. */
  quick: boolean;
  /** How to run the server under test: undefined for `bun src/main.ts`, or a built binary (`--server`). */
  serverCommand: string[] | undefined;
  /** Progress for people watching, on stderr; never part of the table. */
  log(line: string): void;
}

/** One benchmark: a module of bench/, listed once in run.ts. */
export interface Benchmark {
  /** Short id for `--only`. */
  id: string;
  /** How it is measured, for docs/BENCHMARKS.md (markdown). */
  method: string;
  run(context: BenchContext): Promise<ResultRow[]>;
}

/** PASS when the target is met. */
export function verdict(met: boolean): Verdict {
  return met ? "PASS" : "MISS";
}

/** A row for something that cannot be measured yet, with the reason in place of a figure. */
export function notMeasured(bench: string, what: string, why: string, target: string): ResultRow {
  return { bench, what, measured: `not measured: ${why}`, beside: "", target, result: "n/a" };
}
