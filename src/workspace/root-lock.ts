import { closeSync, openSync, readdirSync, readlinkSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from "node:fs";
import { join } from "node:path";
import { isRunning, readProcText, startTimeOf } from "../common/proc.ts";
import { randomText } from "../common/random-text.ts";

/**
 * The servers that use a workspace root, each named by a file in it. Two servers on one root share
 * the directory of every session name, and one's end of a session deletes the other's workspace of
 * that name (found by a crash hunt): each server is told, in a warning at startup, who else is
 * there. Only told: refusing the second server broke setups that run two on the default root, and
 * nothing here ever deletes a workspace (a first version that swept what a killed server left could
 * take a live server's workspaces for left ones, found by a review: a root on NFS shared by two
 * hosts, whose PID namespaces look alike).
 *
 * A file holds its server's pid, the process's start time, its PID namespace and the boot id, so
 * that a pid reused after a crash (a restarted container, where every server is pid 1 or near it)
 * is never taken for a live server. From another machine or namespace the pid tells nothing: such a
 * file counts as live while it was touched lately (every server touches its own every minute).
 */
const FILE_PATTERN = /^\.bunker-server\.(\d+)\.[0-9a-f]+\.lock$/;
const HEARTBEAT_MS = 60_000;
/** Touched within this (two heartbeats and some): its server may still run where we cannot see it. */
const FRESH_FOR_MS = 150_000;

/** This server's entry in a root. */
export interface RootRegistration {
  /** Pids of the other servers that use the root now (as their files name them); empty when alone. */
  readonly others: readonly number[];
  /** Removes this server's file, once. */
  release(): void;
}

function readText(path: string): string | undefined {
  return readProcText(path)?.trim();
}

/** Where this process runs: its PID namespace and the machine's boot; undefined where unknown (no /proc). */
function placeOfThisProcess(): string | undefined {
  try {
    const bootId = readText("/proc/sys/kernel/random/boot_id");
    return bootId === undefined ? undefined : `${readlinkSync("/proc/self/ns/pid")}@${bootId}`;
  } catch {
    return undefined;
  }
}

/**
 * Whether the server a file names runs: where this process runs too, its pid and start time tell;
 * from elsewhere (or without /proc, or where its start time cannot be read) they cannot.
 */
function holderState(content: string, place: string | undefined): "runs" | "gone" | "unknown" {
  const [pidText, startTime, holderPlace] = content.split(" ");
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || startTime === undefined || place === undefined || holderPlace !== place) return "unknown";
  if (!isRunning(pid)) return "gone";
  const now = startTimeOf(pid);
  if (now === undefined) return "unknown";
  return now === startTime ? "runs" : "gone";
}

/** Registers this server in `root` (a real path): files of servers that are gone go, and the pids of the others come back. */
export function registerInWorkspaceRoot(root: string): RootRegistration {
  const place = placeOfThisProcess();
  const content = `${process.pid} ${startTimeOf(process.pid) ?? "-"} ${place ?? "-"}\n`;
  // Unique even for servers that share a pid (pid 1 in their containers), and whole before it can
  // be read: written under a hidden name, then renamed into place.
  const name = `.bunker-server.${process.pid}.${randomText(6, "hex")}.lock`;
  const path = join(root, name);
  const writeOwnFile = () => {
    const partial = `${path}.part`;
    const fd = openSync(partial, "w", 0o600);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, path);
  };
  writeOwnFile();
  const others: number[] = [];
  for (const entry of readdirSync(root)) {
    const match = FILE_PATTERN.exec(entry);
    if (!match || entry === name) continue;
    const other = join(root, entry);
    const state = holderState(readText(other) ?? "", place);
    const touchedMs = statSync(other, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (state === "runs" || (state === "unknown" && Date.now() - touchedMs < FRESH_FOR_MS)) {
      others.push(Number(match[1]));
      continue;
    }
    try {
      unlinkSync(other);
    } catch {
      // Removed meanwhile.
    }
  }
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Removed under us (by hand, or by a server that could not see this one): put it back.
      try {
        writeOwnFile();
      } catch {
        // The root is gone or read-only: nothing else depends on the file.
      }
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let held = true;
  return {
    others,
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
