import { readdirSync, readFileSync } from "node:fs";
import { constants } from "node:os";

/** What /proc tells about processes, for the few places that look: Linux only, nothing elsewhere. */

/** Whether a process with this pid (a group with -pgid) runs, in this PID namespace, whoever's it is. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A file of /proc as text; undefined when it cannot be read (the process ended, or there is no /proc). */
export function readProcText(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}

/** The pid of every process this one can see; none without /proc (macOS). */
export function visiblePids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    const code = entry.charCodeAt(0);
    if (code >= 48 && code <= 57) pids.push(Number(entry));
  }
  return pids;
}

/**
 * The fields of a /proc/<pid>/stat line after the command name, which may hold spaces and
 * parentheses: they start after the last ")". [1] is the parent pid, [19] the start time.
 */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** A process's start time in clock ticks since boot: a pid reused by another process has another. */
export function startTimeOf(pid: number): string | undefined {
  const stat = readProcText(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : statFields(stat)[19];
}

/** Whether a signal is in one of the masks of a status (SigIgn, SigCgt); undefined where unknown. */
function statusMaskHas(status: string | undefined, field: "SigIgn" | "SigCgt", signal: "SIGHUP" | "SIGINT"): boolean | undefined {
  const mask = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, "m").exec(status ?? "")?.[1];
  return mask === undefined ? undefined : (BigInt(`0x${mask}`) & (1n << BigInt(constants.signals[signal] - 1))) !== 0n;
}

/** Whether a process ignores a signal, from SigIgn in its status; undefined where unknown. */
export function ignoresSignal(pid: number | "self", signal: "SIGHUP" | "SIGINT"): boolean | undefined {
  return statusMaskHas(readProcText(`/proc/${pid}/status`), "SigIgn", signal);
}

/**
 * Whether a live process catches or ignores a signal, from SigCgt and SigIgn; false for one that
 * has exited (a zombie's masks are what it had, not what it does) and where unknown.
 */
export function handlesSignal(pid: number, signal: "SIGHUP" | "SIGINT"): boolean {
  const status = readProcText(`/proc/${pid}/status`);
  if (status === undefined || /^State:\s*[ZX]/m.test(status)) return false;
  return statusMaskHas(status, "SigCgt", signal) === true || statusMaskHas(status, "SigIgn", signal) === true;
}
