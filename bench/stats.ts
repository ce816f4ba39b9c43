/** The q-quantile (0..1) of samples, by nearest rank. */
export function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

/** The median (nearest rank, the lower of the two middle values). */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** p50 and p99 of one round's samples. */
export interface Percentiles {
  p50: number;
  p99: number;
}

/** p50 and p99 of one round of samples. */
export function percentiles(samples: readonly number[]): Percentiles {
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}

/** The figure a row reports: the median, over rounds, of each round's p50 and of each round's p99. */
export function medianPercentiles(rounds: readonly Percentiles[]): Percentiles {
  return { p50: median(rounds.map((round) => round.p50)), p99: median(rounds.map((round) => round.p99)) };
}

/** Renders rows as an aligned table that is also a markdown table. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (cell: string) => cell.replaceAll("|", "\\|");
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => escape(row[column] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => escape(cell).padEnd(widths[column]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** Prints rows as an aligned table and returns the text. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const text = formatTable(header, rows);
  console.log(text);
  return text;
}

/** Milliseconds with two decimals: "9.14 ms". */
export function formatMs(ms: number): string {
  return `${ms.toFixed(2)} ms`;
}

/** "p50 9.14 ms, p99 14.44 ms". */
export function formatPercentiles({ p50, p99 }: Percentiles): string {
  return `p50 ${formatMs(p50)}, p99 ${formatMs(p99)}`;
}

/** Decimal megabytes per second: "165 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(0)} MB/s`;
}

/** Memory in MiB with one decimal: "39.2 MiB" (RSS is counted in KiB pages, so binary units). */
export function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
