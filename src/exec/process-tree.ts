import { readlinkSync } from "node:fs";
import { constants } from "node:os";
import { libc } from "../common/libc.ts";
import { isRunning, readProcText, statFields, visiblePids } from "../common/proc.ts";

/** The host pids of every process in a PID namespace, found by its inode in /proc/<pid>/ns/pid. */
export function pidsInNamespace(namespaceInode: number): number[] {
  const wanted = `pid:[${namespaceInode}]`;
  return visiblePids().filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/pid`) === wanted;
    } catch {
      // The process ended while we looked, or is not ours to inspect.
      return false;
    }
  });
}

/**
 * Sends a signal and ignores "no such process": the target may have ended on its own a moment ago.
 * Through libc's kill where it is loaded (common/libc.ts), which returns the failure instead of
 * throwing it; process.kill elsewhere.
 */
export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  const calls = libc();
  if (calls) {
    calls.kill(pid, constants.signals[signal]);
    return;
  }
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/** A process as /proc/<pid>/stat tells it: its parent and its one-letter state (R, S, T, Z...). */
export interface ProcessState {
  pid: number;
  ppid: number;
  state: string;
}

/**
 * `processes` ordered so that each comes after its parent among them. Not by pid: pids wrap, and a
 * child may have the lower one.
 */
export function parentsFirst<T extends Omit<ProcessState, "state">>(processes: readonly T[]): T[] {
  const parentOf = new Map(processes.map((process) => [process.pid, process.ppid]));
  const depthOf = (pid: number): number => {
    let depth = 0;
    // At most one step per process: a chain read while pids were reused cannot loop.
    for (let parent = parentOf.get(pid); parent !== undefined && depth < processes.length; parent = parentOf.get(parent)) depth++;
    return depth;
  };
  const depths = new Map(processes.map((process) => [process.pid, depthOf(process.pid)]));
  return [...processes].sort((a, b) => depths.get(a.pid)! - depths.get(b.pid)!);
}

/** The processes of a PID namespace (host pids), parents before their children. */
function namespaceProcesses(namespaceInode: number): ProcessState[] {
  const found: ProcessState[] = [];
  for (const pid of pidsInNamespace(namespaceInode)) {
    const stat = readProcText(`/proc/${pid}/stat`);
    // Gone since it was listed.
    if (stat === undefined) continue;
    const fields = statFields(stat);
    found.push({ pid, ppid: Number(fields[1]), state: fields[0] ?? "" });
  }
  return parentsFirst(found);
}

/** States of a process that can no longer run, hence fork: stopped, stopped by a tracer, a zombie, dead. */
const HALTED_STATES = new Set(["T", "t", "Z", "X"]);

/**
 * Sends `signal` to every process of a PID namespace. Its pid 1 ignores catchable signals from
 * outside (init semantics), so each process gets the signal directly; SIGKILL to pid 1 alone
 * takes the whole namespace down with it. `spareInit`: not pid 1 (the reaper, which blocks every
 * signal and takes a pending SIGTERM as the server ending the exec, reaper-x86_64.S), SIGKILL
 * included: each other process gets it. Returns how many processes were signalled.
 *
 * Parents get it before their children, but SIGCONT children first: a parent that woke first would
 * find its child still stopped, and an interactive bash then takes its foreground job for one that
 * stopped (it prints "Stopped", gives itself the terminal and runs the rest of the line at once).
 */
export function signalNamespace(initPid: number, namespaceInode: number, signal: NodeJS.Signals, spareInit = false): number {
  if (signal === "SIGKILL" && !spareInit) {
    signalQuietly(initPid, "SIGKILL");
    return 1;
  }
  const processes = namespaceProcesses(namespaceInode);
  if (signal === "SIGCONT") processes.reverse();
  let delivered = 0;
  for (const { pid } of processes) {
    if (spareInit && pid === initPid) continue;
    signalQuietly(pid, signal);
    delivered++;
  }
  return delivered;
}

/**
 * One look at pausing a PID namespace: SIGSTOP, parents first, to each process but pid 1 that is
 * not halted yet. A process signalled while it forks stops once the fork returns, and its new
 * child, which no look had seen, runs on: the caller looks again until `running` is 0 (a process
 * that is stopped forks no more). `others`: the processes besides pid 1.
 */
export function stopNamespaceOnce(initPid: number, namespaceInode: number): { others: number; running: number } {
  let others = 0;
  let running = 0;
  for (const { pid, state } of namespaceProcesses(namespaceInode)) {
    if (pid === initPid) continue;
    others++;
    if (HALTED_STATES.has(state)) continue;
    running++;
    signalQuietly(pid, "SIGSTOP");
  }
  return { others, running };
}

/** Sends `signal` to a whole process group (the exec was spawned as its leader). */
export function signalProcessGroup(leaderPid: number, signal: NodeJS.Signals): void {
  signalQuietly(-leaderPid, signal);
}

/** Whether a process group exists (a process may be spawned before it makes its own group). */
export function processGroupExists(pgid: number): boolean {
  return isRunning(-pgid);
}

/** Whether a process has children now; undefined where the kernel cannot tell (no /proc/<pid>/task/<pid>/children). */
export function hasChildren(pid: number): boolean | undefined {
  const children = readProcText(`/proc/${pid}/task/${pid}/children`);
  return children === undefined ? undefined : children.length > 0;
}
