import { parseArgs } from "node:util";
import { homedir, hostname } from "node:os";
import { join, resolve } from "node:path";
import { MAX_TIMEOUT_MS } from "../protocol/index.ts";
import { DEFAULT_DETACH_TTL_MS, DEFAULT_HOLD_OUTPUT_MS, DEFAULT_LIMITS, DEFAULT_SESSION_IDLE_TTL_MS, type ServerLimits } from "../server/options.ts";
import { SANDBOX_CHOICES, type SandboxChoice } from "../sandbox/detect.ts";
import { DEFAULT_RLIMITS, DEFAULT_TMP_SIZE_BYTES, type Rlimits } from "../sandbox/rlimits.ts";
import { defaultRunAs, parseRunAs, type RunAs } from "../sandbox/run-as.ts";
import { DEFAULT_PROTECTED_PATHS } from "../sandbox/protected-paths.ts";
import { realpathSync } from "node:fs";

/** A `--protect` path: relative to the workspace, without `..`. */
function checkProtectPath(path: string): string {
  const parts = path.split("/").filter((part) => part.length > 0 && part !== ".");
  if (path.startsWith("/") || parts.length === 0 || parts.includes("..")) {
    throw new UsageError(`--protect: ${quote(path)} must be a path inside the workspace, such as .env or .git/info`);
  }
  return parts.join("/");
}

/** An `--allow-read`/`--allow-write` path: an existing absolute host path, as its real path. */
function checkAllowedPath(flag: string, path: string): string {
  if (!path.startsWith("/")) throw new UsageError(`${flag}: ${quote(path)} must be an absolute path`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new UsageError(`${flag}: ${quote(path)} does not exist`);
  }
  if (real === "/") throw new UsageError(`${flag}: ${quote(path)} is the whole filesystem`);
  return real;
}

/** Where a server running as root keeps workspaces by default. */
export const ROOT_WORKSPACE_ROOT = "/var/lib/bunker/workspaces";
import { parseChoice, parseDurationMs, parseWholeNumber } from "./parse-numbers.ts";
import { UsageError, quote } from "./usage-error.ts";

/** `bunker serve` settings before the sandbox is probed. */
export interface ServeSettings {
  host: string;
  port: number;
  /** undefined with --no-auth; "generate" when a random token must be made. */
  token: string | undefined | "generate";
  allowedOrigins: string[];
  workspaceRoot: string;
  workspaceRetention: "keep" | "delete";
  sandbox: SandboxChoice;
  requireSandbox: boolean;
  allowNetwork: boolean;
  limits: ServerLimits;
  detachTtlMs: number;
  sessionIdleTtlMs: number;
  holdOutputMs: number;
  hostId: string;
  runAs: RunAs | undefined;
  rlimits: Rlimits;
  tmpSizeBytes: number;
  workspaceQuotaBytes: number | undefined;
  protectPaths: string[];
  allowRead: string[];
  allowWrite: string[];
}

const SERVE_FLAGS = {
  host: { type: "string" },
  port: { type: "string" },
  token: { type: "string" },
  "no-auth": { type: "boolean" },
  "allow-origin": { type: "string", multiple: true },
  "workspace-root": { type: "string" },
  "workspace-retention": { type: "string" },
  sandbox: { type: "string" },
  "require-sandbox": { type: "boolean" },
  "allow-network": { type: "boolean" },
  "max-execs-per-session": { type: "string" },
  "max-execs": { type: "string" },
  "exec-timeout-ms": { type: "string" },
  "max-exec-timeout-ms": { type: "string" },
  "max-output-bytes": { type: "string" },
  "max-frame-bytes": { type: "string" },
  "max-sessions": { type: "string" },
  "output-log-bytes": { type: "string" },
  "detach-ttl": { type: "string" },
  "session-idle-ttl": { type: "string" },
  "hold-output": { type: "string" },
  "host-id": { type: "string" },
  "run-as": { type: "string" },
  "limit-cpu-seconds": { type: "string" },
  "limit-address-space-bytes": { type: "string" },
  "limit-file-size-bytes": { type: "string" },
  "limit-open-files": { type: "string" },
  "limit-processes": { type: "string" },
  "tmp-size-bytes": { type: "string" },
  "workspace-quota-bytes": { type: "string" },
  protect: { type: "string", multiple: true },
  "allow-read": { type: "string", multiple: true },
  "allow-write": { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

/** Parses `bunker serve` arguments (flags over environment over defaults). Throws UsageError on misuse. */
export function parseServeArgs(args: string[], env: Record<string, string | undefined>): ServeSettings | "help" {
  let parsed;
  try {
    parsed = parseArgs({ args, options: SERVE_FLAGS, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0] ?? "bad arguments");
  }
  const flags = parsed.values;
  if (flags.help) return "help";

  const tokenFlag = flags.token ?? env["BUNKER_TOKEN"];
  if (flags["no-auth"] && flags.token !== undefined) throw new UsageError("--token and --no-auth contradict each other");
  if (tokenFlag !== undefined && tokenFlag.length < 16 && !flags["no-auth"]) {
    throw new UsageError(`--token: a token of ${tokenFlag.length} characters is too short to guess-proof; use at least 16`);
  }
  const host = flags.host ?? "127.0.0.1";
  if (host.length === 0) throw new UsageError(`--host: ${quote(host)} is empty`);

  const number = (flag: keyof typeof SERVE_FLAGS, fallback: number, min: number, max: number) => {
    const value = flags[flag];
    return typeof value === "string" ? parseWholeNumber(`--${flag}`, value, min, max) : fallback;
  };
  const maxOutput = flags["max-output-bytes"];
  const euid = process.geteuid?.() ?? -1;
  let runAs = defaultRunAs(euid);
  const runAsFlag = flags["run-as"] ?? env["BUNKER_RUN_AS"];
  if (runAsFlag !== undefined) {
    runAs = parseRunAs(runAsFlag);
    if (!runAs) throw new UsageError(`--run-as: ${quote(runAsFlag)} is not UID or UID:GID`);
    if (euid !== 0 && (runAs.uid !== euid || runAs.gid !== (process.getegid?.() ?? -1))) {
      throw new UsageError(`--run-as: only a server running as root can run commands as another user (${quote(runAsFlag)})`);
    }
  }
  const quota = flags["workspace-quota-bytes"];
  return {
    host,
    port: number("port", 7681, 0, 65535),
    token: flags["no-auth"] ? undefined : (tokenFlag ?? "generate"),
    allowedOrigins: flags["allow-origin"] ?? [],
    // root's home is 0700, which the uid commands run as could not pass through.
    workspaceRoot: resolve(flags["workspace-root"] ?? env["BUNKER_WORKSPACE_ROOT"] ?? (euid === 0 ? ROOT_WORKSPACE_ROOT : join(homedir(), ".bunker", "workspaces"))),
    workspaceRetention: parseChoice("--workspace-retention", flags["workspace-retention"] ?? "delete", ["keep", "delete"] as const),
    sandbox: parseChoice("--sandbox", flags.sandbox ?? "auto", SANDBOX_CHOICES),
    requireSandbox: flags["require-sandbox"] === true,
    allowNetwork: flags["allow-network"] === true,
    limits: {
      maxExecsPerSession: number("max-execs-per-session", DEFAULT_LIMITS.maxExecsPerSession, 1, 100_000),
      maxExecs: number("max-execs", DEFAULT_LIMITS.maxExecs, 1, 1_000_000),
      execTimeoutMs: number("exec-timeout-ms", DEFAULT_LIMITS.execTimeoutMs, 0, MAX_TIMEOUT_MS),
      maxExecTimeoutMs: number("max-exec-timeout-ms", DEFAULT_LIMITS.maxExecTimeoutMs, 0, MAX_TIMEOUT_MS),
      maxOutputBytes: maxOutput === undefined ? DEFAULT_LIMITS.maxOutputBytes : parseWholeNumber("--max-output-bytes", maxOutput, 1, Number.MAX_SAFE_INTEGER),
      maxFrameBytes: number("max-frame-bytes", DEFAULT_LIMITS.maxFrameBytes, 1024, 64 * 1024 * 1024),
      maxSessions: number("max-sessions", DEFAULT_LIMITS.maxSessions, 1, 10_000_000),
      outputLogBytes: number("output-log-bytes", DEFAULT_LIMITS.outputLogBytes, 1, 1024 * 1024 * 1024),
      retainedOutputBytes: DEFAULT_LIMITS.retainedOutputBytes,
      retainedExecs: DEFAULT_LIMITS.retainedExecs,
    },
    detachTtlMs: flags["detach-ttl"] === undefined ? DEFAULT_DETACH_TTL_MS : parseDurationMs("--detach-ttl", flags["detach-ttl"]),
    sessionIdleTtlMs:
      flags["session-idle-ttl"] === undefined ? DEFAULT_SESSION_IDLE_TTL_MS : parseDurationMs("--session-idle-ttl", flags["session-idle-ttl"]),
    holdOutputMs: flags["hold-output"] === undefined ? DEFAULT_HOLD_OUTPUT_MS : parseDurationMs("--hold-output", flags["hold-output"]),
    runAs,
    rlimits: {
      cpuSeconds: number("limit-cpu-seconds", DEFAULT_RLIMITS.cpuSeconds, 1, 1_000_000_000),
      addressSpaceBytes: number("limit-address-space-bytes", DEFAULT_RLIMITS.addressSpaceBytes, 16 * 1024 * 1024, Number.MAX_SAFE_INTEGER),
      fileSizeBytes: number("limit-file-size-bytes", DEFAULT_RLIMITS.fileSizeBytes, 1, Number.MAX_SAFE_INTEGER),
      openFiles: number("limit-open-files", DEFAULT_RLIMITS.openFiles, 16, 1_048_576),
      processes: number("limit-processes", DEFAULT_RLIMITS.processes, 8, 4_194_304),
    },
    tmpSizeBytes: number("tmp-size-bytes", DEFAULT_TMP_SIZE_BYTES, 1024 * 1024, Number.MAX_SAFE_INTEGER),
    workspaceQuotaBytes: quota === undefined ? undefined : parseWholeNumber("--workspace-quota-bytes", quota, 1, Number.MAX_SAFE_INTEGER),
    protectPaths: [...DEFAULT_PROTECTED_PATHS, ...(flags.protect ?? []).map((path) => checkProtectPath(path))],
    allowRead: (flags["allow-read"] ?? []).map((path) => checkAllowedPath("--allow-read", path)),
    allowWrite: (flags["allow-write"] ?? []).map((path) => checkAllowedPath("--allow-write", path)),
    hostId: flags["host-id"] ?? env["BUNKER_HOST_ID"] ?? hostname(),
  };
}
