import { controllingTerminalPrefix } from "./controlling-terminal.ts";
import { buildReaperLimitArgs } from "./rlimits.ts";
import type { SandboxBackend, SandboxCommand, SandboxPolicy, ExecSpec } from "./types.ts";
import type { SystemMount } from "./system-mounts.ts";
import { createVisibility, resolveProgram } from "./resolve-program.ts";

/** Where the reaper (see reaper.ts) appears inside the sandbox. */
export const REAPER_SANDBOX_PATH = "/run/bunker/reap";
/** Child fd of bwrap's --json-status-fd. */
const JSON_STATUS_FD = 3;
/** Child fd the reaper writes the command's true wait status to (fixed in its machine code). */
const WAIT_STATUS_FD = 4;
/** Child fd bwrap reads the seccomp filter from (see seccomp/). */
export const SECCOMP_FD = 5;
/** Child fds of protected paths start here, one each. */
const FIRST_PROTECTED_FD = 6;

export interface BwrapBackendOptions {
  bwrapPath: string;
  /** Host path of the installed reaper ELF. */
  reaperPath: string;
  systemMounts: readonly SystemMount[];
  /** Looks a bare program name up on PATH (see resolve-program.ts); tests of the argv leave it out. */
  lookUpPrograms?: boolean;
  /** Host path of the installed seccomp filter (seccomp/install-filter.ts); bwrap loads it from fd 5. */
  seccompFilterPath?: string;
}

function systemMountArgs(mounts: readonly SystemMount[]): string[] {
  return mounts.flatMap((mount) =>
    mount.kind === "ro-bind" ? ["--ro-bind", mount.path, mount.path] : ["--symlink", mount.target, mount.path],
  );
}

/**
 * The bwrap flags of the core policy, without the command. Exported so that the startup probe runs
 * exactly what every exec runs.
 */
export function buildBwrapArgs(
  options: BwrapBackendOptions,
  policy: SandboxPolicy,
  cwd: string,
  pty = false,
  protectedPaths: readonly { path: string }[] = [],
): string[] {
  return [
    // user, pid, ipc, uts, cgroup and net namespaces; the network comes back only when allowed.
    "--unshare-all",
    ...(policy.allowNetwork ? ["--share-net"] : []),
    "--die-with-parent",
    // The reaper itself is pid 1, a child of the outer bwrap, with no bwrap init in between. bwrap
    // sets the parent-death signal of what runs inside only late in the sandbox setup, so a server
    // killed during that setup left bwrap's init and the whole sandbox running (bubblewrap issue
    // #633). The reaper also watches the server's end of fd 4, which closes that window (see
    // reaper/reaper-x86_64.S), and when pid 1 exits the kernel ends everything in the namespace.
    "--as-pid-1",
    // A new session stops TIOCSTI from pushing input into the server's terminal. A PTY exec keeps
    // its session: its terminal is its own (TIOCSTI can reach only that terminal), and job control
    // needs the terminal to stay the controlling one.
    ...(pty ? [] : ["--new-session"]),
    "--hostname",
    "bunker",
    ...systemMountArgs(options.systemMounts),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    // bwrap's /dev, its /dev/shm and the sandbox root are tmpfs sized at half the host's RAM each:
    // cap /dev/shm like /tmp and make the others read-only, or they would bypass the /tmp cap.
    ...(policy.tmpSizeBytes !== undefined ? ["--size", String(policy.tmpSizeBytes)] : []),
    "--tmpfs",
    "/dev/shm",
    "--remount-ro",
    "/dev",
    // The tmpfs must come before the workspace bind: a workspace under /tmp would vanish beneath it.
    ...(policy.tmpSizeBytes !== undefined ? ["--size", String(policy.tmpSizeBytes)] : []),
    "--tmpfs",
    "/tmp",
    "--bind",
    policy.workspace,
    policy.workspace,
    // Extra host paths the operator allowed (--allow-read, --allow-write), at the same paths.
    ...(policy.allowRead ?? []).flatMap((path) => ["--ro-bind", path, path]),
    ...(policy.allowWrite ?? []).flatMap((path) => ["--bind", path, path]),
    // Protected paths inside the workspace, read-only, bound from fds the server opened without
    // following symlinks (protected-paths.ts); they must come after the workspace bind.
    ...protectedPaths.flatMap((protectedPath, index) => ["--ro-bind-fd", String(FIRST_PROTECTED_FD + index), protectedPath.path]),
    "--ro-bind",
    options.reaperPath,
    REAPER_SANDBOX_PATH,
    "--chdir",
    cwd,
    // Last among the mounts: the sandbox's root tmpfs read-only (the binds below it keep their own modes).
    "--remount-ro",
    "/",
    "--cap-drop",
    "ALL",
    "--json-status-fd",
    String(JSON_STATUS_FD),
    // The filter is installed last, just before the reaper is exec'd (docs/SECURITY.md, seccomp).
    ...(options.seccompFilterPath ? ["--seccomp", String(SECCOMP_FD)] : []),
  ];
}

/**
 * The bubblewrap backend. The environment travels as bwrap's own environment rather than as
 * `--setenv` flags, because argv is readable by every local user in /proc/<pid>/cmdline and the
 * environment is not; bwrap passes its environment on to the command unchanged.
 */
export function createBwrapBackend(options: BwrapBackendOptions): SandboxBackend {
  // Read-only inside, so only the host changes them: their lookups may be remembered.
  const isSystem = createVisibility(options.systemMounts.map((mount) => mount.path));
  return {
    name: "bwrap",
    buildCommand(spec: ExecSpec, policy: SandboxPolicy): SandboxCommand {
      const [program = "", ...args] = spec.argv;
      const visible = createVisibility([...options.systemMounts.map((mount) => mount.path), policy.workspace]);
      const inWorkspace = createVisibility([policy.workspace]);
      const remembered = (path: string) => isSystem(path) && !inWorkspace(path);
      const resolved = options.lookUpPrograms ? resolveProgram(program, spec.env["PATH"], spec.cwd, visible, remembered) : program;
      if (resolved === undefined) throw new Error(`${JSON.stringify(program)} was not found on the command's PATH`);
      return {
        argv: [
            options.bwrapPath,
            ...buildBwrapArgs(options, policy, spec.cwd, spec.pty === true, spec.protectedPaths),
            "--",
            REAPER_SANDBOX_PATH,
            // Limits are set by the reaper inside, once the user namespace exists (see rlimits.ts).
            ...(spec.rlimits ? buildReaperLimitArgs(spec.rlimits) : []),
            ...controllingTerminalPrefix(spec.pty === true),
            resolved,
            ...args,
          ],
        env: { ...spec.env },
        cwd: policy.workspace,
        tree: "pid-namespace",
        statusFds: { jsonStatus: JSON_STATUS_FD, waitStatus: WAIT_STATUS_FD },
        ...(options.seccompFilterPath && { inputFiles: [{ fd: SECCOMP_FD, path: options.seccompFilterPath }] }),
        passFds: (spec.protectedPaths ?? []).map((protectedPath, index) => ({ fd: FIRST_PROTECTED_FD + index, hostFd: protectedPath.fd })),
        detached: false,
      };
    },
    tempDir: () => "/tmp",
  };
}
