import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRunning, readProcText, visiblePids } from "../common/proc.ts";

/**
 * The directory where a server installs its reaper and seccomp filter. A server that stops removes
 * it; one killed with SIGKILL cannot, so every start sweeps what such servers left (sweepStaleRuntimeDirs).
 * The name carries the owner's pid, and a running server touches its directory every minute: a
 * directory is stale only when its pid is gone and nobody touched it for a while, which also keeps
 * the directory of a server whose pid this one cannot see (another pid namespace sharing /tmp).
 */
const NAME_PATTERN = /^bunker-runtime-(\d+)-[A-Za-z0-9]+$/;
const HEARTBEAT_MS = 60_000;
/** Untouched this long (five heartbeats) and without a running owner: stale. */
const STALE_AFTER_MS = 5 * HEARTBEAT_MS;

export interface RuntimeDir {
  readonly path: string;
  /** Removes the directory and stops touching it. */
  dispose(): void;
}

/** Makes this server's runtime directory: readable by any uid that runs bwrap, writable by the server alone. */
export function createRuntimeDir(root = tmpdir()): RuntimeDir {
  const path = mkdtempSync(join(root, `bunker-runtime-${process.pid}-`));
  chmodSync(path, 0o755);
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Removed under us: there is nothing left to keep.
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    path,
    dispose() {
      clearInterval(heartbeat);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/**
 * Removes the runtime directories that killed servers of this user left in `root`; returns their
 * names. Never follows a symlink and never touches another user's directory.
 */
export function sweepStaleRuntimeDirs(root = tmpdir(), nowMs = Date.now()): string[] {
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = NAME_PATTERN.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid) continue;
    const path = join(root, name);
    const stats = lstatSync(path, { throwIfNoEntry: false });
    if (!stats?.isDirectory() || (uid !== undefined && stats.uid !== uid)) continue;
    if (nowMs - stats.mtimeMs < STALE_AFTER_MS || isRunning(pid)) continue;
    killProcessesNaming(path, uid);
    rmSync(path, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * SIGKILLs the processes of this user (of any user, for root) whose argv names `path`: what a killed server's sandboxes
 * left. bwrap killed within milliseconds of a spawn can leave its inner half blocked for good,
 * before the reaper that would have ended it runs (found by a crash hunt; SECURITY.md); its argv
 * binds the server's reaper from this directory. Only for a directory already known to be stale,
 * so a live server's sandboxes (which name its own, touched directory) are never touched.
 */
function killProcessesNaming(path: string, uid: number | undefined): void {
  for (const pid of visiblePids()) {
    try {
      // A root server's sandboxes run as the run-as uid (nobody), not as root: it looks at every
      // uid's processes (found by an audit: they were skipped). The directory is root's and its name
      // random, so a process that names it is one of that server's.
      if (uid !== undefined && uid !== 0 && lstatSync(`/proc/${pid}`).uid !== uid) continue;
      const argv = (readProcText(`/proc/${pid}/cmdline`) ?? "").split("\0");
      if (argv.some((arg) => arg === path || arg.startsWith(`${path}/`))) process.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile, or not ours.
    }
  }
}
