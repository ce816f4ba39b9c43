/** `npm run bench` flags, defaults applied in one place. */
import { resolve } from "node:path";
import { parseArgs } from "node:util";

export const BENCH_HELP = `Usage: npm run bench -- [flags]     (bun bench/run.ts [flags])

Runs every benchmark of bench/, prints one table, and writes it to docs/BENCHMARKS.md.
  --only ID[,ID]   run only these rows (repeatable): IDS
  --quick          fewer rounds and smaller counts: a smoke run, not figures to publish
  --server PATH    measure this built binary (e.g. dist/bunker) instead of bun src/main.ts
  --write          write docs/BENCHMARKS.md even for an --only, --quick or --server run
  --help           this text
`;

/** What a run does. */
export interface BenchOptions {
  /** Benchmark ids in the order given; undefined: all of them. */
  only: string[] | undefined;
  quick: boolean;
  serverCommand: string[] | undefined;
  /** Whether docs/BENCHMARKS.md is written: by default only a full run from source writes it. */
  write: boolean;
}

/** Parses argv; "help" when help was asked for. Throws TypeError quoting a bad value. */
export function resolveBenchOptions(argv: string[], knownIds: readonly string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: "string", multiple: true },
      quick: { type: "boolean", default: false },
      server: { type: "string" },
      write: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) return "help";
  const only = values.only?.flatMap((value) => value.split(",")).map((id) => id.trim()).filter((id) => id !== "");
  for (const id of only ?? []) {
    if (!knownIds.includes(id)) throw new TypeError(`unknown row ${JSON.stringify(id)}; choose from ${knownIds.join(", ")}`);
  }
  const serverCommand = values.server === undefined ? undefined : [resolve(values.server)];
  const partial = only !== undefined || values.quick || serverCommand !== undefined;
  return { only, quick: values.quick, serverCommand, write: values.write || !partial };
}
