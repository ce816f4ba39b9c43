import { readFileSync } from "node:fs";
import type { Rlimits } from "./rlimits.ts";

/** Each limit's line in /proc/<pid>/limits, and the serve flag that sets it. */
const LIMITS: Record<keyof Rlimits, { line: string; flag: string }> = {
  cpuSeconds: { line: "Max cpu time", flag: "--limit-cpu-seconds" },
  addressSpaceBytes: { line: "Max address space", flag: "--limit-address-space-bytes" },
  fileSizeBytes: { line: "Max file size", flag: "--limit-file-size-bytes" },
  openFiles: { line: "Max open files", flag: "--limit-open-files" },
  processes: { line: "Max processes", flag: "--limit-processes" },
};

/** The hard limits of this process as /proc/self/limits states them (`unlimited`: Infinity); those it cannot read are left out. */
export function readHardLimits(limitsText = readFileSync("/proc/self/limits", "utf8")): Partial<Rlimits> {
  const hard: Partial<Rlimits> = {};
  const rows = limitsText.split("\n");
  for (const [name, { line }] of Object.entries(LIMITS) as [keyof Rlimits, { line: string }][]) {
    const row = rows.find((text) => text.startsWith(`${line} `));
    const value = row?.slice(line.length).trim().split(/\s+/)[1];
    if (value === "unlimited") hard[name] = Infinity;
    else if (value !== undefined && /^\d+$/.test(value)) hard[name] = Number(value);
  }
  return hard;
}

/**
 * Why the commands cannot get `rlimits`, or undefined. A process without CAP_SYS_RESOURCE cannot
 * raise a hard limit (setrlimit: EPERM), and a command inherits the server's: so a --limit-* above
 * the server's own hard limit would fail every exec. bwrap's startup probe finds that by running
 * the reaper; under none, where commands run on the host, this reading of the server's own limits
 * finds it without a spawn (a few ms of every start).
 */
export function limitAboveHard(rlimits: Rlimits, hard: Partial<Rlimits>): string | undefined {
  for (const [name, { flag }] of Object.entries(LIMITS) as [keyof Rlimits, { flag: string }][]) {
    const ceiling = hard[name];
    if (ceiling !== undefined && rlimits[name] > ceiling) {
      return `${flag} is ${rlimits[name]} (the default, unless set) and above the server's own hard limit of ${ceiling} (ulimit -H), which commands cannot raise: pass ${flag} ${ceiling} or less, or raise the hard limit`;
    }
  }
  return undefined;
}
