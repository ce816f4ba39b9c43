import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, unlinkSync, utimesSync, writeSync } from "node:fs";
import { join } from "node:path";
import { isRunning } from "../common/process-running.ts";

/**
 * The servers that use a workspace root, each named by a file in it: `.bunker-server.<pid>.lock`,
 * holding the pid and, on Linux, the process's start time, so that a pid reused after a crash (a
 * container restarted on the same volume, where every server is pid 1 or near it) is never taken
 * for a live server. A server tells from them whether it is alone on its root: only then may it
 * delete the workspaces it finds there (left by a server that was killed). Two servers on one root
 * still run (refusing the second one broke setups that run two on the default root), but they share
 * the directory of every name: each is told, in a warning, who else is there. A server in another
 * PID namespace (a replica sharing the volume) cannot be seen by its pid, so every server also
 * writes its PID namespace and touches its file every minute: the file of a server in another
 * namespace counts as live while it was touched lately, and a server that is unsure it is alone
 * deletes nothing. The file also says the server's retention: a file left by a server that was to
 * delete its workspaces tells the next one that it was killed before it could.
 */
const FILE_PATTERN = /^\.bunker-server\.(\d+)\.lock$/;
const HEARTBEAT_MS = 60_000;
/** Touched within this (two heartbeats and some): its server may still run where we cannot see it. */
const FRESH_FOR_MS = 150_000;

/** This server's entry in a root. */
export interface RootRegistration {
  /** Pids of the other servers that use the root now; empty when this server is alone on it. */
  readonly others: readonly number[];
  /**
   * Whether a server that ran with `--workspace-retention delete` is gone without removing its file:
   * it was killed, and the workspaces it should have deleted may still be here.
   */
  readonly leftByKilledDeleter: boolean;
  /** Removes this server's file, once. */
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

/** This process's PID namespace ("pid:[4026531836]"), "-" where unknown. */
function pidNamespace(): string {
  try {
    return readlinkSync("/proc/self/ns/pid");
  } catch {
    return "-";
  }
}

/**
 * Whether the server a file names still runs: in this PID namespace its pid and start time tell;
 * from another one (or without /proc) they cannot, and only the heartbeat can.
 */
function holderState(content: string, namespace: string): "runs" | "gone" | "unknown" {
  const [pidText, startTime, holderNamespace] = content.trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return "gone";
  if (holderNamespace === undefined || holderNamespace === "-" || holderNamespace !== namespace) return "unknown";
  if (!isRunning(pid)) return "gone";
  return startTimeOf(pid) === startTime ? "runs" : "gone";
}

/**
 * Registers this server in `root` (a real path): removes the files of servers that are gone and
 * returns the pids of those that still run.
 */
export function registerInWorkspaceRoot(root: string, retention: "keep" | "delete"): RootRegistration {
  const namespace = pidNamespace();
  const others: number[] = [];
  let leftByKilledDeleter = false;
  for (const name of readdirSync(root)) {
    const match = FILE_PATTERN.exec(name);
    if (!match || Number(match[1]) === process.pid) continue;
    const path = join(root, name);
    let content = "";
    try {
      content = readFileSync(path, "latin1");
    } catch {
      continue;
    }
    const state = holderState(content, namespace);
    const touchedMs = statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (state === "runs" || (state === "unknown" && Date.now() - touchedMs < FRESH_FOR_MS)) {
      others.push(Number(match[1]));
      continue;
    }
    if (content.trim().split(" ")[3] === "delete") leftByKilledDeleter = true;
    try {
      unlinkSync(path);
    } catch {
      // Removed meanwhile.
    }
  }
  const path = join(root, `.bunker-server.${process.pid}.lock`);
  const fd = openSync(path, "w", 0o600);
  try {
    writeSync(fd, `${process.pid} ${startTimeOf(process.pid) ?? "-"} ${namespace} ${retention}\n`);
  } finally {
    closeSync(fd);
  }
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Removed under us: the next server cannot see this one; nothing else breaks.
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let held = true;
  return {
    others,
    leftByKilledDeleter,
    release() {
      if (!held) return;
      held = false;
      clearInterval(heartbeat);
      try {
        unlinkSync(path);
      } catch {
        // Gone already.
      }
    },
  };
}
