import { closeSync, fstatSync, openSync, realpathSync, statSync } from "node:fs";
import { openAnonymousFile } from "../exec/anonymous-file.ts";
import { createStatusLineReader } from "../exec/status-pipes.ts";
import type { RunAs } from "./run-as.ts";
import type { SystemMount } from "./system-mounts.ts";
import { readWrittenText } from "./written-text.ts";

/**
 * The user and mount namespaces every exec's bwrap runs its setup in (entered with enter.ts).
 *
 * Why: bwrap makes each bind's mount point by path, following symlinks (stat then creat, which
 * truncates, for a file; mkdir for a directory and its parents), after pivot_root, with the host
 * at /oldroot, as the host uid that runs the sandbox. A protected path inside the workspace
 * (.git/config) is such a mount point, and a command of the same session can swap `.git` for a
 * symlink to /oldroot/<any host directory> while the next exec starts: bwrap then created or
 * truncated files there (found by an audit, docs/SECURITY.md). In this namespace the host is what
 * the sandboxes are built from: the system directories, the reaper and bwrap read-only; writable,
 * the workspace root and --allow-write (where commands write anyway; other workspaces only by a
 * name nobody can learn), and /proc and the device nodes (where nothing can be created). A
 * redirected mount point finds nothing else to write. The namespace holds no process: its two fds
 * keep it.
 */
export interface SetupNamespace {
  userFd: number;
  mountFd: number;
  /** The directories bound in from the host, as they were when it was made (isSetupNamespaceCurrent). */
  bound: readonly PathIdentity[];
}

interface PathIdentity {
  path: string;
  dev: number;
  ino: number;
}

export interface SetupNamespaceOptions {
  bwrapPath: string;
  reaperPath: string;
  systemMounts: readonly SystemMount[];
  workspaceRoot: string;
  allowRead?: readonly string[];
  allowWrite?: readonly string[];
  runAs?: RunAs | undefined;
}

/**
 * What the inner bwrap's `--dev` binds from the host's /dev, and only that: its device nodes, and
 * /dev/pts, where it finds a PTY exec's terminal (by ttyname) to bind as /dev/console.
 */
const DEVICE_PATHS = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/pts"] as const;

/**
 * The files bwrap needs in the namespace besides the system directories: the reaper, and bwrap's
 * own program when it lies elsewhere (a symlink into /opt, say: its target). Its libraries must be
 * in the system directories (a bwrap from Nix is not supported here).
 */
function filesTheSetupReads(options: Pick<SetupNamespaceOptions, "bwrapPath" | "reaperPath" | "systemMounts">): string[] {
  const directories = options.systemMounts.filter((mount) => mount.kind === "ro-bind").map((mount) => mount.path);
  const bwrap = realpathSync(options.bwrapPath);
  return [options.reaperPath, ...(directories.some((directory) => bwrap.startsWith(`${directory}/`)) ? [] : [bwrap])];
}

/** How long making the namespace may take before it counts as failed. */
const CREATE_TIMEOUT_MS = 10_000;

/**
 * bwrap's flags for the namespace. Only a user namespace is new besides the mounts. /dev holds the
 * host's device nodes that the inner `--dev` binds, each bound alone: not bwrap's own `--dev`,
 * which makes bwrap map the uid to 0 first and nest a second user namespace, whose parent (the
 * mount namespace's owner) could not be opened to be joined; not the host's whole /dev, whose /dev/shm anyone
 * may write; and not read-only, which bwrap makes `nodev` too. /proc is the host's, writable as on
 * the host (a file there can be opened, not made), because the inner bwrap mounts a new proc and
 * the kernel allows that only where an unlocked proc is already visible.
 */
export function buildSetupNamespaceArgs(options: SetupNamespaceOptions): string[] {
  return [
    "--unshare-user",
    "--die-with-parent",
    ...options.systemMounts.flatMap((mount) => (mount.kind === "ro-bind" ? ["--ro-bind", mount.path, mount.path] : ["--symlink", mount.target, mount.path])),
    ...DEVICE_PATHS.flatMap((node) => ["--dev-bind-try", node, node]),
    "--bind",
    "/proc",
    "/proc",
    // bwrap puts its own tmpfs (its new root) on /tmp.
    "--dir",
    "/tmp",
    ...filesTheSetupReads(options).flatMap((path) => ["--ro-bind", path, path]),
    "--bind",
    options.workspaceRoot,
    options.workspaceRoot,
    ...(options.allowRead ?? []).flatMap((path) => ["--ro-bind", path, path]),
    ...(options.allowWrite ?? []).flatMap((path) => ["--bind", path, path]),
    "--remount-ro",
    "/",
    // The namespace's only process waits on stdin until its namespaces are open (openSetupNamespace).
    "--block-fd",
    "0",
    "--json-status-fd",
    "3",
  ];
}

/**
 * Makes the namespace: bwrap sets it up around a process that waits on stdin, the namespaces are
 * opened through /proc while it waits, and then it is let go. Throws with bwrap's own message
 * when it cannot be made (nested user namespaces refused, say).
 */
export async function openSetupNamespace(options: SetupNamespaceOptions): Promise<SetupNamespace> {
  const bound = [options.workspaceRoot, ...(options.allowRead ?? []), ...(options.allowWrite ?? [])].map((path) => {
    const { dev, ino } = statSync(path);
    return { path, dev, ino };
  });
  const stderrFd = openAnonymousFile(new Uint8Array());
  let proc: import("bun").Subprocess<"pipe", "ignore", number> | undefined;
  const opened: number[] = [];
  let statusFd: number | undefined;
  // bwrap's own words when it failed, once it has exited (killed first: it may wait on stdin).
  const failure = async (fallback: string) => {
    proc?.kill("SIGKILL");
    await proc?.exited;
    return new Error(`bwrap could not make the setup namespace: ${readWrittenText(stderrFd) || fallback}`);
  };
  try {
    proc = Bun.spawn([options.bwrapPath, ...buildSetupNamespaceArgs(options), "--", "true"], {
      stdio: ["pipe", "ignore", stderrFd, "pipe"],
      env: { PATH: "/usr/bin:/bin" },
      timeout: CREATE_TIMEOUT_MS,
      ...(options.runAs && { uid: options.runAs.uid, gid: options.runAs.gid }),
    });
    statusFd = proc.stdio[3] as number;
    // bwrap writes this line as it clones the child, before the child sets the namespace up.
    const status = await readStatusLine(statusFd, proc.exited);
    const childPid = status?.["child-pid"];
    const mountNamespace = status?.["mnt-namespace"];
    if (typeof childPid !== "number" || typeof mountNamespace !== "number") throw await failure("no status line");
    try {
      for (const kind of ["user", "mnt"]) opened.push(openSync(`/proc/${childPid}/ns/${kind}`, "r"));
    } catch (error) {
      // A child that failed its setup is gone already.
      throw await failure((error as Error).message);
    }
    // Its mount namespace's inode proves the pid was still the child's.
    if (fstatSync(opened[1]!).ino !== mountNamespace) throw await failure("its process was gone before its namespaces were opened");
    // The child blocks on stdin only once it is set up; an exit code of 0 says it got there.
    proc.stdin.end();
    const exitCode = await proc.exited;
    if (exitCode !== 0) throw await failure(`exit code ${exitCode}`);
    return { userFd: opened[0]!, mountFd: opened[1]!, bound };
  } catch (error) {
    for (const fd of opened) closeSync(fd);
    proc?.kill("SIGKILL");
    throw error;
  } finally {
    if (statusFd !== undefined) closeSync(statusFd);
    closeSync(stderrFd);
  }
}

/**
 * Whether the directories bound into the namespace are still the host's: a workspace root removed
 * and made again, or an allowed directory replaced, leaves the namespace with the old one.
 */
export function isSetupNamespaceCurrent(namespace: SetupNamespace): boolean {
  return namespace.bound.every(({ path, dev, ino }) => {
    const now = statSync(path, { throwIfNoEntry: false });
    return now !== undefined && now.dev === dev && now.ino === ino;
  });
}

/** Closes the namespace's fds: it goes once no exec runs in it. */
export function closeSetupNamespace(namespace: SetupNamespace): void {
  closeSync(namespace.userFd);
  closeSync(namespace.mountFd);
}

/** bwrap's first status line (child pid, namespaces), or undefined when bwrap ended without one. */
async function readStatusLine(fd: number, exited: Promise<number>): Promise<Record<string, unknown> | undefined> {
  const readLine = createStatusLineReader(fd);
  let ended = false;
  void exited.then(() => (ended = true));
  for (;;) {
    // Read once more after the exit: the line may have come just before it.
    const wasEnded = ended;
    const line = readLine();
    if (line !== "waiting") return line;
    if (wasEnded) return undefined;
    // The line comes within a millisecond or two of the spawn; this runs at startup.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
