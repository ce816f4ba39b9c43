import { posix } from "node:path";
import { execa } from "execa";
import { buildSeatbeltProfile } from "./seatbelt-profile.ts";
import type { ExecSpec, ProbeResult, SandboxBackend, SandboxCommand, SandboxPolicy } from "./types.ts";

/** Where macOS ships sandbox-exec; absolute so that a PATH entry cannot stand in for it. */
export const SANDBOX_EXEC_PATH = "/usr/bin/sandbox-exec";

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
  /** Absolute host path of the temp dir commands get as TMPDIR; the caller creates and removes it. */
  tempDir: string;
}

function assertUsablePath(name: string, path: string): void {
  if (!posix.isAbsolute(path)) throw new TypeError(`${name} must be an absolute path, got ${JSON.stringify(path)}`);
  if (toSeatbeltPath(path) === "/") throw new TypeError(`${name} must not be the root directory, got ${JSON.stringify(path)}`);
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

/** The sandbox-exec arguments before the command: profile text, then the paths as parameters. */
function buildSandboxExecArgs(profile: string, workspace: string, tempDir: string): string[] {
  return ["-p", profile, "-D", `WORKSPACE=${toSeatbeltPath(workspace)}`, "-D", `TMPDIR=${toSeatbeltPath(tempDir)}`];
}

/**
 * The seatbelt backend: every command runs under sandbox-exec with the profile of
 * seatbelt-profile.ts. sandbox-exec applies the profile and then execvp's the command, so the pid
 * the server spawns becomes the command itself and leads the process group.
 */
export function createSeatbeltBackend(options: SeatbeltBackendOptions): SandboxBackend {
  assertUsablePath("tempDir", options.tempDir);
  const tempDir = options.tempDir;
  // The text depends only on allowNetwork, so both variants are built once.
  const profiles = {
    networkAllowed: buildSeatbeltProfile({ allowNetwork: true }),
    networkDenied: buildSeatbeltProfile({ allowNetwork: false }),
  };
  return {
    name: "seatbelt",
    buildCommand(spec: ExecSpec, policy: SandboxPolicy): SandboxCommand {
      assertUsablePath("workspace", policy.workspace);
      const profile = policy.allowNetwork ? profiles.networkAllowed : profiles.networkDenied;
      return {
        // "--" ends sandbox-exec's getopt options, so a command whose name starts with "-" stays the command.
        argv: [SANDBOX_EXEC_PATH, ...buildSandboxExecArgs(profile, policy.workspace, tempDir), "--", ...spec.argv],
        env: { ...spec.env, TMPDIR: tempDir },
        cwd: spec.cwd,
        tree: "process-group",
        statusFds: {},
        // A PTY spawn makes the command a session leader already.
        detached: spec.pty !== true,
      };
    },
    tempDir: () => tempDir,
  };
}

async function runProbe(args: string[]): Promise<string | undefined> {
  const result = await execa(SANDBOX_EXEC_PATH, [...args, "/usr/bin/true"], {
    reject: false,
    stdin: "ignore",
    timeout: PROBE_TIMEOUT_MS,
  });
  if (!result.failed) return undefined;
  return result.stderr.trim() || result.shortMessage || `exit code ${result.exitCode}`;
}

/**
 * Whether seatbelt works here. First the trivial profile (is sandbox-exec usable at all: it is not
 * inside another sandbox), then the real profile both ways (does this macOS accept every rule in it),
 * so that a profile this macOS rejects turns into a startup reason, not a failure of every exec.
 */
export async function probeSeatbelt(): Promise<ProbeResult> {
  if (process.platform !== "darwin") return { ok: false, reason: "sandbox-exec exists only on macOS" };
  const unusable = await runProbe(["-p", TRIVIAL_PROFILE]);
  if (unusable !== undefined) return { ok: false, reason: `sandbox-exec cannot run a sandboxed command: ${unusable}` };
  for (const allowNetwork of [false, true]) {
    const profile = buildSeatbeltProfile({ allowNetwork });
    const rejected = await runProbe([...buildSandboxExecArgs(profile, PROBE_PARAM_PATH, PROBE_PARAM_PATH), "--"]);
    if (rejected !== undefined) {
      return { ok: false, reason: `sandbox-exec rejected bunker's profile (allowNetwork ${allowNetwork}): ${rejected}` };
    }
  }
  return { ok: true };
}
