import { controllingTerminalPrefix } from "./controlling-terminal.ts";
import { buildReaperLimitArgs } from "./rlimits.ts";
import type { SandboxBackend, SandboxCommand, SandboxPolicy, ExecSpec } from "./types.ts";
import type { SystemMount } from "./system-mounts.ts";
import { createProgramLookups, createVisibility, resolveProgram } from "./resolve-program.ts";
import type { SetupNamespace } from "./setup-namespace.ts";
import { ENTER_JOIN_NETWORK_FLAG, ENTER_MOUNT_NS_FD, ENTER_NET_NS_FD, ENTER_USER_NS_FD } from "./enter.ts";
import type { SharedNetwork } from "./shared-network.ts";
import type { NetworkSupply } from "./network-supply.ts";

/** Where the reaper (see reaper.ts) appears inside the sandbox. */
export const REAPER_SANDBOX_PATH = "/run/bunker/reap";
/** Child fd of bwrap's --json-status-fd. */
const JSON_STATUS_FD = 3;
/** Child fd the reaper writes the command's true wait status to (fixed in its machine code). */
const WAIT_STATUS_FD = 4;
/** Child fd bwrap reads the seccomp filter from (see seccomp/). */
export const SECCOMP_FD = 5;
/** Child fd bwrap reads the command's environment from, as --args (see buildEnvArgs). */
const ENV_ARGS_FD = 6;
/**
 * Child fds of the command's stdout and stderr (fixed in the reaper's machine code, which makes them
 * its 1 and 2): bwrap's monitor closes every fd above 2, so only the sandbox holds these, and their
 * end of file comes when the sandbox's last process is gone, not after bwrap's teardown and exit.
 */
const COMMAND_OUTPUT_FDS = { stdout: 9, stderr: 10 };
/** Child fds of protected paths start here, one each (7, 8 and 11 are enter's, see enter.ts). */
const FIRST_PROTECTED_FD = 12;

export interface BwrapBackendOptions {
  bwrapPath: string;
  /** Host path of the installed reaper ELF. */
  reaperPath: string;
  systemMounts: readonly SystemMount[];
  /** Looks a bare program name up on PATH (see resolve-program.ts); tests of the argv leave it out. */
  lookUpPrograms?: boolean;
  /** Host path of the installed seccomp filter (seccomp/install-filter.ts); bwrap loads it from fd 5. */
  seccompFilterPath?: string;
  /**
   * Where bwrap sets each sandbox up (setup-namespace.ts), and the installed enter program that
   * starts it there (enter.ts); without it, on the host itself. With `networks`, a session's
   * commands share a network namespace (shared-network.ts) taken from it.
   */
  setup?: { enterPath: string; namespace(): SetupNamespace; networks?: NetworkSupply };
}

/**
 * How bwrap is started: through enter (enter.ts) into the setup namespace when there is one, which
 * then executes bwrap there (no fork: the spawned pid is bwrap's). enter closes the namespace fds
 * before bwrap runs. With a session's `network` made in this very setup namespace, enter joins it
 * too (`sharedNetwork`: bwrap must then keep it, not make its own); one made in a setup namespace
 * since replaced cannot be joined, and the command gets a network namespace of its own.
 */
export function buildBwrapLaunch(options: BwrapBackendOptions, network?: SharedNetwork): { argv: string[]; passFds: { fd: number; hostFd: number }[]; sharedNetwork: boolean } {
  const setup = options.setup;
  if (!setup) return { argv: [options.bwrapPath], passFds: [], sharedNetwork: false };
  const namespace = setup.namespace();
  const passFds = [
    { fd: ENTER_USER_NS_FD, hostFd: namespace.userFd },
    { fd: ENTER_MOUNT_NS_FD, hostFd: namespace.mountFd },
  ];
  if (!network || network.setup !== namespace) return { argv: [setup.enterPath, options.bwrapPath], passFds, sharedNetwork: false };
  return {
    argv: [setup.enterPath, ENTER_JOIN_NETWORK_FLAG, options.bwrapPath],
    passFds: [...passFds, { fd: ENTER_NET_NS_FD, hostFd: network.fd }],
    sharedNetwork: true,
  };
}

function systemMountArgs(mounts: readonly SystemMount[]): string[] {
  return mounts.flatMap((mount) =>
    mount.kind === "ro-bind" ? ["--ro-bind", mount.path, mount.path] : ["--symlink", mount.target, mount.path],
  );
}

/**
 * A denied file is /dev/null inside, on a nodev mount, so opening it fails with "Permission
 * denied"; a denied directory is an empty read-only tmpfs. Only the ones a command could otherwise see (beneath a system directory or an allowed
 * path) are mounted: elsewhere bwrap would make mount points for them in the sandbox's root.
 */
function deniedPathArgs(options: BwrapBackendOptions, policy: SandboxPolicy): string[] {
  const denied = policy.denyRead ?? [];
  if (denied.length === 0) return [];
  const visible = createVisibility([...options.systemMounts.map((mount) => mount.path), ...(policy.allowRead ?? []), ...(policy.allowWrite ?? [])]);
  return denied
    .filter(({ path }) => visible(path))
    .flatMap(({ path, directory }) => (directory ? ["--tmpfs", path, "--remount-ro", path] : ["--ro-bind", "/dev/null", path]));
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
  protectedPaths: readonly { path: string; pinned?: true }[] = [],
  sharedNetwork = false,
): string[] {
  const writableBind = policy.readOnly ? "--ro-bind" : "--bind";
  return [
    // user, pid, ipc, uts, cgroup and net namespaces; the network comes back only when allowed.
    // `sharedNetwork`: enter has joined the session's network namespace, which bwrap keeps.
    "--unshare-all",
    ...(policy.allowNetwork || sharedNetwork ? ["--share-net"] : []),
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
    // A read-only exec (SandboxPolicy.readOnly) gets every writable bind below read-only instead.
    writableBind,
    policy.workspace,
    policy.workspace,
    // Extra host paths the operator allowed (--allow-read, --allow-write), at the same paths.
    ...(policy.allowRead ?? []).flatMap((path) => ["--ro-bind", path, path]),
    ...(policy.allowWrite ?? []).flatMap((path) => [writableBind, path, path]),
    // Then what the operator hid inside them (--deny-read, the server's own secret files): after
    // the binds that show them, as sandbox-runtime's denyRead does (see deniedPathArgs).
    ...deniedPathArgs(options, policy),
    // Protected paths inside the workspace, read-only, bound from fds the server opened without
    // following symlinks (protected-paths.ts); they must come after the workspace bind. The
    // directories on their way (.git) are pinned first: bound writable onto themselves, mount points.
    ...protectedPaths.flatMap((protectedPath, index) => [protectedPath.pinned && !policy.readOnly ? "--bind-fd" : "--ro-bind-fd", String(FIRST_PROTECTED_FD + index), protectedPath.path]),
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

const encoder = new TextEncoder();
/** Linux's MAX_ARG_STRLEN: one argument or NAME=VALUE string, its NUL included. */
const MAX_ENV_STRING_BYTES = 32 * 4096;

/**
 * The command's environment as bwrap arguments: `--clearenv`, then `--setenv NAME VALUE` for each
 * variable, NUL-separated for `--args`. Not bwrap's own environment: bwrap runs on the host, before
 * any namespace exists, and the request's LD_PRELOAD or LD_LIBRARY_PATH (a trailing ":" means the
 * working directory, the workspace) would load a library the command left in the workspace into
 * bwrap itself, outside the sandbox. Not argv either: every local user can read /proc/<pid>/cmdline.
 */
export function buildEnvArgs(env: Readonly<Record<string, string>>): Uint8Array {
  let text = "--clearenv\0";
  for (const [name, value] of Object.entries(env)) {
    // A NUL would end the argument early and start a bwrap option of the client's choosing.
    // The protocol refuses such requests; this holds whatever the caller.
    if (name.includes("\0") || value.includes("\0") || name === "" || name.includes("=")) {
      throw new Error(`environment variable ${JSON.stringify(name.slice(0, 64))}: names and values cannot hold NUL, names cannot be empty or hold "="`);
    }
    // execve refuses any one string longer than this (MAX_ARG_STRLEN): say so before spawning, as a
    // spawn with the variable in its own environment did, rather than as bwrap's exec failing inside.
    if (Buffer.byteLength(name) + Buffer.byteLength(value) + 2 > MAX_ENV_STRING_BYTES) {
      throw new Error(`E2BIG: environment variable ${JSON.stringify(name.slice(0, 64))} is longer than the kernel's limit of ${MAX_ENV_STRING_BYTES} bytes for one string`);
    }
    text += `--setenv\0${name}\0${value}\0`;
  }
  return encoder.encode(text);
}

/**
 * The bubblewrap backend. bwrap itself gets an empty environment; the command's comes through a
 * file bwrap reads as more arguments (buildEnvArgs).
 */
export function createBwrapBackend(options: BwrapBackendOptions): SandboxBackend {
  // Read-only inside, so only the host changes them: their lookups may be remembered.
  const isSystem = createVisibility(options.systemMounts.map((mount) => mount.path));
  const lookUpProgram = createProgramLookups();
  return {
    name: "bwrap",
    enforcesReadOnly: true,
    buildCommand(spec: ExecSpec, policy: SandboxPolicy): SandboxCommand {
      const [program = "", ...args] = spec.argv;
      // Everything bound at its own path: the system, the workspace, and the operator's extra paths.
      const bound = createVisibility([...options.systemMounts.map((mount) => mount.path), policy.workspace, ...(policy.allowRead ?? []), ...(policy.allowWrite ?? [])]);
      // Less what is hidden in them (deniedPathArgs): a lookup there told the client which names a
      // --deny-read directory holds, "not found on PATH" or not (found by a review).
      const denied = policy.denyRead ?? [];
      const hidden = createVisibility(denied.map(({ path }) => path));
      const visible = denied.length === 0 ? bound : (path: string) => bound(path) && !hidden(path);
      // Commands can write the workspace and the --allow-write paths, even one inside a system
      // directory (/usr/local/x): lookups there are never remembered (found by a review).
      const writable = createVisibility([policy.workspace, ...(policy.allowWrite ?? [])]);
      const remembered = (path: string) => isSystem(path) && !writable(path);
      const resolved = options.lookUpPrograms ? lookUpProgram(program, spec.env["PATH"], spec.cwd, visible, remembered) : program;
      if (resolved === undefined) throw new Error(`${JSON.stringify(program)} was not found on the command's PATH`);
      // The host's network when allowed; otherwise the session's, when it has one.
      const launch = buildBwrapLaunch(options, policy.allowNetwork ? undefined : spec.network);
      return {
        argv: [
            ...launch.argv,
            "--args",
            String(ENV_ARGS_FD),
            ...buildBwrapArgs(options, policy, spec.cwd, spec.pty === true, spec.protectedPaths, launch.sharedNetwork),
            "--",
            REAPER_SANDBOX_PATH,
            // Limits are set by the reaper inside, once the user namespace exists (see rlimits.ts).
            ...(spec.rlimits ? buildReaperLimitArgs(spec.rlimits) : []),
            ...controllingTerminalPrefix(spec.pty === true),
            resolved,
            ...args,
          ],
        env: {},
        cwd: policy.workspace,
        tree: "pid-namespace",
        statusFds: { jsonStatus: JSON_STATUS_FD, waitStatus: WAIT_STATUS_FD },
        // A terminal is the command's stdout and stderr both, and ends with the Terminal object.
        ...(spec.pty !== true && { outputFds: COMMAND_OUTPUT_FDS }),
        ...(options.seccompFilterPath && { inputFiles: [{ fd: SECCOMP_FD, path: options.seccompFilterPath }] }),
        inputData: [{ fd: ENV_ARGS_FD, bytes: buildEnvArgs(spec.env) }],
        passFds: [
          ...launch.passFds,
          ...(spec.protectedPaths ?? []).map((protectedPath, index) => ({ fd: FIRST_PROTECTED_FD + index, hostFd: protectedPath.fd })),
        ],
        detached: false,
      };
    },
    tempDir: () => "/tmp",
    ...(options.setup?.networks && { openSharedNetwork: () => options.setup!.networks!.take() }),
  };
}
