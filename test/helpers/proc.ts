import { readdirSync, readFileSync } from "node:fs";

/** Polls /proc-based facts, which have no event to await, for up to 4 s. */
export async function pollProc(holds: () => boolean): Promise<void> {
  const deadline = Date.now() + 4000;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error("condition did not hold within 4 s");
    await Bun.sleep(10);
  }
}

/** The command lines (NUL-separated) of every process now running. */
function commandLines(): string[] {
  const lines: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      lines.push(readFileSync(`/proc/${entry}/cmdline`, "utf8"));
    } catch {
      // The process ended while we looked.
    }
  }
  return lines;
}

/** Processes whose last argument is `tag`. */
export function countProcessesEndingWith(tag: string): number {
  return commandLines().filter((line) => line.endsWith(`\0${tag}\0`)).length;
}

/** Processes whose command line is `sleep <tag>` (under bwrap argv[0] is the resolved path). */
export function countSleepers(tag: string): number {
  return commandLines().filter((line) => /^(\/usr)?(\/bin\/)?sleep\0/.test(line) && line.endsWith(`\0${tag}\0`)).length;
}
