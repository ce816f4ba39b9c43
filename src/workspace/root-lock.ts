import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { isRunning } from "../common/process-running.ts";

/**
 * One server per workspace root. Two servers on one root share the directory of a name (named
 * sessions, client-chosen ids), and one's end of a session deleted the other's live workspace
 * (found by a crash hunt). The lock is a file in the root naming its server by pid and, on Linux,
 * the process's start time, so that a pid reused after a crash (a container restarted on the same
 * volume, where every server is pid 1 or near it) is never mistaken for a live server. A lock whose
 * server is gone is taken over. Servers in other PID namespaces cannot be seen, and are not told
 * apart from gone ones.
 */
const LOCK_NAME = ".bunker-server.lock";

/** The held lock: release() removes it, once, if it is still this server's. */
export interface RootLock {
  release(): void;
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined where unknown. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** The identity this server writes into the lock: "pid starttime". */
function identityOf(pid: number): string {
  return `${pid} ${startTimeOf(pid) ?? "-"}`;
}

/** Whether the server a lock names still runs: the same pid with the same start time (or, without /proc, the pid alone). */
function holderRuns(content: string): number | undefined {
  const [pidText, startTime] = content.trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  if (!isRunning(pid)) return undefined;
  const now = startTimeOf(pid);
  if (now !== undefined && startTime !== "-" && now !== startTime) return undefined;
  return pid;
}

/**
 * Takes the lock of `root` (a real path) or throws with the pid of the server that holds it. A
 * lock left by a server that is gone is taken over.
 */
export function lockWorkspaceRoot(root: string): RootLock {
  const path = join(root, LOCK_NAME);
  const identity = identityOf(process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      try {
        writeSync(fd, `${identity}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
    }
    let content = "";
    try {
      content = readFileSync(path, "latin1");
    } catch {
      // Removed meanwhile by its server's stop: take it.
    }
    const holder = holderRuns(content);
    if (holder !== undefined) {
      throw new Error(`${root} is in use by another bunker server (pid ${holder}); give each server its own --workspace-root`);
    }
    try {
      unlinkSync(path);
    } catch {
      // Removed meanwhile: the next attempt creates it.
    }
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      try {
        if (readFileSync(path, "latin1").trim() === identity) unlinkSync(path);
      } catch {
        // Gone already.
      }
    },
  };
}
