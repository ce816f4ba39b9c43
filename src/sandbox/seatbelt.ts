import { posix } from "node:path";
import { protectedPathComponents } from "./protected-path-components.ts";
import type { Rlimits } from "./rlimits.ts";
import { buildSeatbeltProfile, type SeatbeltProfileOptions } from "./seatbelt-profile.ts";
import { SEATBELT_LIST_PARAMS, seatbeltParamNames } from "./seatbelt-path-rules.ts";
import type { ExecSpec, ProbeResult, SandboxBackend, SandboxCommand, SandboxPolicy } from "./types.ts";

/** Where macOS ships sandbox-exec; absolute so that a PATH entry cannot stand in for it. */
export const SANDBOX_EXEC_PATH = "/usr/bin/sandbox-exec";

/**
 * The shell that sets resource limits, inside the sandbox (macOS has no prlimit). /bin/bash is bash
 * 3.2 on every macOS, whereas /bin/sh runs whichever shell /private/var/select/sh names (bash, dash
 * or zsh), and their `ulimit`s differ in units and in what `-H -S` means.
 */
export const RLIMIT_SHELL_PATH = "/bin/bash";

/**
 * Constant text: the limits arrive as $1..$4, the command as the rest. Plain `ulimit -X N` sets the
 * soft and the hard limit alike in bash, so the command cannot raise them again. `-f` counts
 * 1024-byte blocks (bash 3.2 does so even in POSIX mode). `-v` is left out: macOS refuses
 * RLIMIT_AS. `exec --` keeps a command whose name starts with "-" the command.
 */
const RLIMIT_SCRIPT = 'umask 022 && ulimit -t "$1" && ulimit -f "$2" && ulimit -n "$3" && ulimit -u "$4" && ulimit -c 0 && shift 4 && exec -- "$@"';

/** $0 of the script: it names the wrapper in its own errors ("bunker-rlimits: line 0: ulimit: open files: ..."). */
const RLIMIT_SCRIPT_NAME = "bunker-rlimits";

/** The temp dir of a session, inside its workspace: private to the session and covered by the workspace rules. */
const TEMP_DIR_NAME = ".tmp";

/** What seatbelt does not enforce even when it runs, as hello reports it. */
export const SEATBELT_NOT_ENFORCED = [
  "rlimits.addressSpaceBytes: macOS refuses RLIMIT_AS (setrlimit fails with EINVAL) and does not enforce it",
];

/** The probe must not hold up startup: sandbox-exec running /usr/bin/true takes milliseconds. */
const PROBE_TIMEOUT_MS = 5_000;
/** The smallest profile sandbox-exec accepts: tells "sandbox-exec cannot sandbox here" apart from "our profile is wrong". */
const TRIVIAL_PROFILE = "(version 1)(allow default)";
/** A root-owned empty directory on every Mac: the probe of the real profile writes nothing. */
const PROBE_PARAM_PATH = "/private/var/empty";

/**
 * The macOS symlinks that lead into /private. Seatbelt matches the resolved path of a file, so a
 * rule for /var/folders/... never matches; os.tmpdir() on macOS returns exactly such a path.
 */
const PRIVATE_SYMLINKS = ["/tmp", "/var", "/etc"] as const;

/** What the seatbelt backend needs from startup (see detect.ts). */
export interface SeatbeltBackendOptions {
  /**
   * Whether execs get their resource limits (ExecSpec.rlimits) through /bin/bash's ulimit. Off
   * when left out; detect.ts turns it on once the startup probe saw the limits set.
   */
  applyRlimits?: boolean;
}

/** The seatbelt spelling of a host path the policy names; throws a TypeError quoting a relative path or "/". */
function usableSeatbeltPath(name: string, path: string): string {
  if (!posix.isAbsolute(path)) throw new TypeError(`${name} must be an absolute path, got ${JSON.stringify(path)}`);
  const seatbeltPath = toSeatbeltPath(path);
  if (seatbeltPath === "/") throw new TypeError(`${name} must not be the root directory, got ${JSON.stringify(path)}`);
  return seatbeltPath;
}

/**
 * The spelling seatbelt matches: normalized, no trailing slash, /tmp, /var and /etc under /private.
 * Pure string work; any other symlink in the path must be resolved by the caller (realpath).
 */
export function toSeatbeltPath(path: string): string {
  const normalized = posix.normalize(path).replace(/\/+$/, "") || "/";
  const symlink = PRIVATE_SYMLINKS.find((link) => normalized === link || normalized.startsWith(`${link}/`));
  return symlink ? `/private${normalized}` : normalized;
}

/** The absolute seatbelt path of a protected path, which is relative to the workspace. */
function protectedPathIn(workspace: string, relative: string): string {
  const components = protectedPathComponents(relative);
  if (relative.startsWith("/") || components.length === 0 || components.includes("..")) {
    throw new TypeError(`protectPaths: each must be a path inside the workspace, such as .git/hooks, got ${JSON.stringify(relative)}`);
  }
  return toSeatbeltPath(`${workspace}/${components.join("/")}`);
}

/** `-D NAME=VALUE` for each parameter. sandbox-exec splits at the first "=", so a value may hold any character. */
function defineArgs(names: readonly string[], values: readonly string[]): string[] {
  return names.flatMap((name, index) => ["-D", `${name}=${values[index]}`]);
}

/** The profile's options (counts only) and the `-D` arguments that carry the policy's paths. */
function resolveSeatbeltParams(policy: SandboxPolicy): { profileOptions: Required<SeatbeltProfileOptions>; defines: string[] } {
  const workspace = usableSeatbeltPath("workspace", policy.workspace);
  const allowRead = (policy.allowRead ?? []).map((path) => usableSeatbeltPath("allowRead", path));
  const allowWrite = (policy.allowWrite ?? []).map((path) => usableSeatbeltPath("allowWrite", path));
  const protect = (policy.protectPaths ?? []).map((relative) => protectedPathIn(workspace, relative));
  const denyRead = (policy.denyRead ?? []).map(({ path }) => usableSeatbeltPath("denyRead", path));
  return {
    profileOptions: {
      allowNetwork: policy.allowNetwork,
      allowReadCount: allowRead.length,
      allowWriteCount: allowWrite.length,
      protectCount: protect.length,
      denyReadCount: denyRead.length,
      readOnly: policy.readOnly === true,
    },
    defines: [
      "-D",
      `WORKSPACE=${workspace}`,
      ...(policy.readOnly ? ["-D", `TEMP_DIR=${workspace}/${TEMP_DIR_NAME}`] : []),
      ...defineArgs(seatbeltParamNames(SEATBELT_LIST_PARAMS.allowRead, allowRead.length), allowRead),
      ...defineArgs(seatbeltParamNames(SEATBELT_LIST_PARAMS.allowWrite, allowWrite.length), allowWrite),
      ...defineArgs(seatbeltParamNames(SEATBELT_LIST_PARAMS.protect, protect.length), protect),
      ...defineArgs(seatbeltParamNames(SEATBELT_LIST_PARAMS.denyRead, denyRead.length), denyRead),
    ],
  };
}

/**
 * The argv prefix that sets `rlimits` and then execs the command (same pid): bash in privileged
 * mode (`-p`), which reads no startup file and ignores BASH_ENV, ENV, SHELLOPTS and functions
 * exported in the environment, so a request's `env` cannot run code before the limits are set.
 * The numbers are integers bunker generates, passed as arguments of a constant script.
 */
export function buildUlimitArgs(rlimits: Rlimits): string[] {
  for (const [name, value] of Object.entries(rlimits)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`rlimits.${name} must be a whole number, got ${String(value)}`);
  }
  return [
    RLIMIT_SHELL_PATH,
    "-p",
    "-c",
    RLIMIT_SCRIPT,
    RLIMIT_SCRIPT_NAME,
    String(rlimits.cpuSeconds),
    String(Math.floor(rlimits.fileSizeBytes / 1024)),
    String(rlimits.openFiles),
    String(rlimits.processes),
  ];
}

/**
 * The seatbelt backend: every command runs under sandbox-exec with the profile of
 * seatbelt-profile.ts. sandbox-exec applies the profile and then execvp's the command (or first the
 * rlimit wrapper, which execs it in turn), so the pid the server spawns becomes the command itself
 * and leads the process group.
 */
export function createSeatbeltBackend(options: SeatbeltBackendOptions = {}): SandboxBackend {
  // The text depends only on the options, so each variant is built once per backend.
  const profiles = new Map<string, string>();
  const profileFor = (profileOptions: Required<SeatbeltProfileOptions>): string => {
    const key = JSON.stringify(profileOptions);
    let profile = profiles.get(key);
    if (profile === undefined) {
      profile = buildSeatbeltProfile(profileOptions);
      profiles.set(key, profile);
    }
    return profile;
  };
  return {
    name: "seatbelt",
    enforcesReadOnly: true,
    buildCommand(spec: ExecSpec, policy: SandboxPolicy): SandboxCommand {
      const { profileOptions, defines } = resolveSeatbeltParams(policy);
      const rlimitArgs = spec.rlimits && options.applyRlimits ? buildUlimitArgs(spec.rlimits) : [];
      return {
        // "--" ends sandbox-exec's getopt options, so a command whose name starts with "-" stays the command.
        argv: [SANDBOX_EXEC_PATH, "-p", profileFor(profileOptions), ...defines, "--", ...rlimitArgs, ...spec.argv],
        env: { ...spec.env },
        cwd: spec.cwd,
        tree: "process-group",
        statusFds: {},
        // Always a new session, PTY or not. Bun's PTY spawn leaves the child in the server's session
        // and process group, and macOS has no setsid(1) to take the terminal inside: without this a
        // PTY exec's group could not be killed, and /dev/tty would be the server's own terminal.
        // The price: a PTY exec has no controlling terminal (docs/seatbelt.md, PTY execs).
        detached: true,
      };
    },
    tempDir: (policy) => `${policy.workspace}/${TEMP_DIR_NAME}`,
  };
}

/** A spec that runs /usr/bin/true, for the probes. */
const PROBE_SPEC: ExecSpec = { argv: ["/usr/bin/true"], cwd: PROBE_PARAM_PATH, env: { PATH: "/usr/bin:/bin" } };

async function runProbe(argv: readonly string[]): Promise<string | undefined> {
  const [file = SANDBOX_EXEC_PATH, ...args] = argv;
  // Loaded on macOS only: execa costs a Linux server's start tens of milliseconds for nothing.
  const { execa } = await import("execa");
  const result = await execa(file, args, {
    reject: false,
    stdin: "ignore",
    cwd: PROBE_PARAM_PATH,
    env: PROBE_SPEC.env,
    extendEnv: false,
    timeout: PROBE_TIMEOUT_MS,
  });
  if (!result.failed) return undefined;
  return result.stderr.trim() || result.shortMessage || `exit code ${result.exitCode}`;
}

/**
 * Whether seatbelt works here. First the trivial profile (is sandbox-exec usable at all: it is not
 * inside another sandbox), then the real profile both ways (does this macOS accept every rule in it),
 * so that a profile this macOS rejects turns into a startup reason, not a failure of every exec.
 * The real profile is probed with one path in each list, so every kind of rule is in it.
 */
export async function probeSeatbelt(): Promise<ProbeResult> {
  if (process.platform !== "darwin") return { ok: false, reason: "sandbox-exec exists only on macOS" };
  const unusable = await runProbe([SANDBOX_EXEC_PATH, "-p", TRIVIAL_PROFILE, ...PROBE_SPEC.argv]);
  if (unusable !== undefined) return { ok: false, reason: `sandbox-exec cannot run a sandboxed command: ${unusable}` };
  const backend = createSeatbeltBackend();
  for (const allowNetwork of [false, true]) {
    const policy: SandboxPolicy = {
      workspace: PROBE_PARAM_PATH,
      allowNetwork,
      allowRead: [PROBE_PARAM_PATH],
      allowWrite: [PROBE_PARAM_PATH],
      protectPaths: [".probe"],
    };
    const rejected = await runProbe(backend.buildCommand(PROBE_SPEC, policy).argv);
    if (rejected !== undefined) {
      return { ok: false, reason: `sandbox-exec rejected bunker's profile (allowNetwork ${allowNetwork}): ${rejected}` };
    }
  }
  return { ok: true };
}

/**
 * Whether the rlimit wrapper can set `rlimits` inside the sandbox: it fails where a limit is above
 * the server's own hard limit, or above what this Mac accepts (kern.maxfilesperproc, maxprocperuid).
 */
export async function probeSeatbeltRlimits(rlimits: Rlimits): Promise<ProbeResult> {
  if (process.platform !== "darwin") return { ok: false, reason: "sandbox-exec exists only on macOS" };
  const command = createSeatbeltBackend({ applyRlimits: true }).buildCommand({ ...PROBE_SPEC, rlimits }, { workspace: PROBE_PARAM_PATH, allowNetwork: false });
  const failed = await runProbe(command.argv);
  return failed === undefined ? { ok: true } : { ok: false, reason: `${RLIMIT_SHELL_PATH} could not set them: ${failed}` };
}
