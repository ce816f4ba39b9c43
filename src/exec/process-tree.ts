import { readlinkSync } from "node:fs";
import { isRunning, readProcText, visiblePids } from "../common/proc.ts";

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

/** Sends a signal and ignores "no such process": the target may have ended on its own a moment ago. */
export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * Sends `signal` to every process of a PID namespace. Its pid 1 ignores catchable signals from
 * outside (init semantics), so each process gets the signal directly; SIGKILL to pid 1 alone
 * takes the whole namespace down with it. `spareInit`: not pid 1 (the reaper, which blocks every
 * signal and takes a pending SIGTERM as the server ending the exec, reaper-x86_64.S), SIGKILL
 * included: each other process gets it. Returns how many processes were signalled.
 */
export function signalNamespace(initPid: number, namespaceInode: number, signal: NodeJS.Signals, spareInit = false): number {
  if (signal === "SIGKILL" && !spareInit) {
    signalQuietly(initPid, "SIGKILL");
    return 1;
  }
  let delivered = 0;
  for (const pid of pidsInNamespace(namespaceInode)) {
    if (spareInit && pid === initPid) continue;
    signalQuietly(pid, signal);
    delivered++;
  }
  return delivered;
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
