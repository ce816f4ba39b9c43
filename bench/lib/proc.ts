/** Facts about running processes, read from /proc (Linux only). */
import { readdirSync, readFileSync } from "node:fs";
import { execa } from "execa";

/** Resident set size of a process in bytes (VmRSS), or NaN once it is gone. */
export function readRssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Bytes a process has passed to write() and friends so far (`wchar` of /proc/PID/io), or NaN. */
export function readWrittenBytes(pid: number): number {
  try {
    const match = /^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

function readParentAndName(pid: number): { ppid: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm sits in parentheses and may hold spaces or parentheses itself: split at the last ")".
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    return { ppid, comm };
  } catch {
    return undefined;
  }
}

/** Pids of every live process named `comm` that descends from `ancestor` (a sandboxed command, say). */
export function findDescendantsNamed(ancestor: number, comm: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || readParentAndName(pid)?.comm !== comm) continue;
    for (let parent = readParentAndName(pid)?.ppid ?? 0; parent > 1; parent = readParentAndName(parent)?.ppid ?? 0) {
      if (parent === ancestor) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

/** The soft and hard limits on open files of a process. */
export function readFdLimit(pid: number | "self" = "self"): { soft: number; hard: number } {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  const parse = (value: string | undefined) => (value === "unlimited" ? Infinity : Number(value));
  return { soft: parse(line?.[1]), hard: parse(line?.[2]) };
}

/**
 * Raises this process's open-file limit to at least `needed` with prlimit(1), so that it and the
 * servers it starts afterwards (which inherit it) can hold that many sockets. Returns the soft
 * limit now in force; raising the hard limit needs root, and a failure leaves the old limit.
 */
export async function ensureFdLimit(needed: number): Promise<number> {
  const { soft, hard } = readFdLimit();
  if (soft >= needed) return soft;
  const newHard = Math.max(hard, needed);
  await execa("prlimit", ["--pid", String(process.pid), `--nofile=${needed}:${newHard === Infinity ? "unlimited" : newHard}`], { reject: false });
  return readFdLimit().soft;
}

function childrenOfThisProcess(): number[] {
  return readdirSync("/proc")
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && readParentAndName(pid)?.ppid === process.pid);
}

/**
 * Stops every live child of this process (the servers and peers a benchmark started, when it ran
 * out of time before it could stop them itself): SIGTERM, then SIGKILL to those left after 5 s.
 */
export async function terminateChildren(): Promise<number> {
  const signal = (pids: number[], name: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, name);
      } catch {
        // Already gone.
      }
    }
  };
  const children = childrenOfThisProcess();
  signal(children, "SIGTERM");
  for (let waited = 0; waited < 5000 && childrenOfThisProcess().some((pid) => children.includes(pid)); waited += 100) await Bun.sleep(100);
  signal(childrenOfThisProcess().filter((pid) => children.includes(pid)), "SIGKILL");
  return children.length;
}
