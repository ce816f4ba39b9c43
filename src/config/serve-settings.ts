import type { KeyObject, X509Certificate } from "node:crypto";
import { accessSync, constants, readFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join, resolve } from "node:path";
import { UsageError, quote } from "../cli/usage-error.ts";
import { DEFAULT_DETACH_TTL_MS, DEFAULT_HOLD_OUTPUT_MS, DEFAULT_LIMITS, DEFAULT_SESSION_IDLE_TTL_MS, type ServerLimits } from "../server/options.ts";
import type { SandboxChoice } from "../sandbox/detect.ts";
import { DEFAULT_RLIMITS, DEFAULT_TMP_SIZE_BYTES, type Rlimits } from "../sandbox/rlimits.ts";
import { parseRunAs, type RunAs } from "../sandbox/run-as.ts";
import { DEFAULT_PROTECTED_PATHS } from "../sandbox/protected-paths.ts";
import type { LogFormat, LogLevel } from "../server/log.ts";
import { normalOrigin } from "../server/origin.ts";
import { browsersCanPresent, durationMs, REDACTED } from "./field-schemas.ts";
import { flagOf, SERVE_FIELD_NAMES, type ServeConfig, type ServeFieldName } from "./serve-fields.ts";
import { LAYER_KINDS, type ConfigLayer, type LayerKind } from "./read-layers.ts";
import { isLoopbackHost } from "./loopback.ts";
import { checkDeniedPath, withSecretFiles } from "./denied-paths.ts";
import { checkAllowedPath } from "./allowed-paths.ts";
import type { DeniedPath } from "../sandbox/types.ts";

/** Where a server running as root keeps workspaces by default. */
export const ROOT_WORKSPACE_ROOT = "/var/lib/bunker/workspaces";

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
  /** Host paths hidden from commands: --deny-read, then the server's own secret files. */
  denyRead: DeniedPath[];
  logFormat: LogFormat;
  logLevel: LogLevel;
  metricsPublic: boolean;
  /** Paths of the PEM files; undefined: plain ws://. */
  tls: { certPath: string; keyPath: string } | undefined;
  trustProxy: boolean;
  /** Lines to log at startup as warnings (an insecure bind, a readable config file with the token). */
  warnings: string[];
}

/** Settings whose absence means "none" rather than a default. */
type UnsetMeansNone = "token" | "maxOutputBytes" | "workspaceQuotaBytes" | "tlsCert" | "tlsKey" | "runAs";

/** Every setting with its default applied; the ones above may still be absent. */
type CompleteConfig = Required<Omit<ServeConfig, UnsetMeansNone>> & Pick<ServeConfig, UnsetMeansNone>;

/** Every setting after layering, and which layer gave it. */
export interface MergedConfig {
  values: ServeConfig;
  sources: Record<ServeFieldName, { kind: LayerKind; label: string }>;
}

function formatDuration(ms: number): string {
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** Every default of `bunker serve`, as a config file would write it; some depend on who runs it and where. */
export function defaultServeConfig(euid: number): ServeConfig {
  return {
    host: "127.0.0.1",
    port: 7681,
    noAuth: false,
    allowOrigin: [],
    // root's home is 0700, which the uid commands run as could not pass through.
    workspaceRoot: euid === 0 ? ROOT_WORKSPACE_ROOT : join(homedir(), ".bunker", "workspaces"),
    workspaceRetention: "delete",
    sandbox: "auto",
    requireSandbox: false,
    allowNetwork: false,
    maxExecsPerSession: DEFAULT_LIMITS.maxExecsPerSession,
    maxExecs: DEFAULT_LIMITS.maxExecs,
    execTimeoutMs: DEFAULT_LIMITS.execTimeoutMs,
    maxExecTimeoutMs: DEFAULT_LIMITS.maxExecTimeoutMs,
    maxFrameBytes: DEFAULT_LIMITS.maxFrameBytes,
    maxSessions: DEFAULT_LIMITS.maxSessions,
    outputLogBytes: DEFAULT_LIMITS.outputLogBytes,
    maxConnections: DEFAULT_LIMITS.maxConnections,
    maxConnectionsPerAddress: DEFAULT_LIMITS.maxConnectionsPerAddress,
    maxMessagesPerSecond: DEFAULT_LIMITS.maxMessagesPerSecond,
    idleTimeout: `${DEFAULT_LIMITS.idleTimeoutSeconds}s`,
    detachTtl: formatDuration(DEFAULT_DETACH_TTL_MS),
    sessionIdleTtl: formatDuration(DEFAULT_SESSION_IDLE_TTL_MS),
    holdOutput: formatDuration(DEFAULT_HOLD_OUTPUT_MS),
    hostId: hostname(),
    ...(euid === 0 && { runAs: "65534:65534" }),
    limitCpuSeconds: DEFAULT_RLIMITS.cpuSeconds,
    limitAddressSpaceBytes: DEFAULT_RLIMITS.addressSpaceBytes,
    limitFileSizeBytes: DEFAULT_RLIMITS.fileSizeBytes,
    limitOpenFiles: DEFAULT_RLIMITS.openFiles,
    limitProcesses: DEFAULT_RLIMITS.processes,
    tmpSizeBytes: DEFAULT_TMP_SIZE_BYTES,
    protect: [],
    allowRead: [],
    allowWrite: [],
    denyRead: [],
    logFormat: "pretty",
    logLevel: "info",
    metricsPublic: false,
    insecureBind: false,
    trustProxy: false,
  };
}

/** Layers in any order; for each setting the highest layer that gives it wins (flag, env, file, default). */
export function mergeLayers(layers: readonly ConfigLayer[]): MergedConfig {
  const ordered = [...layers].sort((a, b) => LAYER_KINDS.indexOf(a.kind) - LAYER_KINDS.indexOf(b.kind));
  const values: Record<string, unknown> = {};
  const sources = {} as MergedConfig["sources"];
  for (const layer of ordered) {
    for (const [name, value] of Object.entries(layer.values)) {
      if (value === undefined) continue;
      values[name] = value;
      sources[name as ServeFieldName] = { kind: layer.kind, label: layer.labels[name as ServeFieldName] ?? flagOf(name as ServeFieldName) };
    }
  }
  for (const name of SERVE_FIELD_NAMES) sources[name] ??= { kind: "default", label: flagOf(name) };
  return { values: values as ServeConfig, sources };
}

/** A `--protect` path: relative to the workspace, without `..`. */
function checkProtectPath(label: string, path: string): string {
  const parts = path.split("/").filter((part) => part.length > 0 && part !== ".");
  if (path.startsWith("/") || parts.length === 0 || parts.includes("..")) {
    throw new UsageError(`${label}: ${quote(path)} must be a path inside the workspace, such as .env or .git/info`);
  }
  return parts.join("/");
}

function checkReadable(label: string, path: string): string {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new UsageError(`${label}: ${quote(path)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return path;
}

/**
 * That the certificate and the key are PEM and belong together, so that `bunker config` refuses
 * what `serve` would fail on (KEY_VALUES_MISMATCH at listen). The key's text is never quoted.
 */
function checkTlsPair(tls: { certPath: string; keyPath: string }, certLabel: string, keyLabel: string): void {
  // Loaded here, only with TLS: importing node:crypto cost every start ~5 ms (common/random-text.ts).
  const { X509Certificate, createPrivateKey } = process.getBuiltinModule("node:crypto");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readFileSync(tls.certPath));
  } catch {
    throw new UsageError(`${certLabel}: ${quote(tls.certPath)} is not a PEM certificate`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(tls.keyPath));
  } catch {
    throw new UsageError(`${keyLabel}: ${quote(tls.keyPath)} is not a PEM private key (an encrypted key needs no passphrase here: none can be given)`);
  }
  if (!certificate.checkPrivateKey(key)) throw new UsageError(`${keyLabel}: ${quote(tls.keyPath)} is not the private key of ${quote(tls.certPath)}`);
}

/** Which of token and noAuth decides: the higher layer; both in one layer contradict each other. */
function resolveToken({ values, sources }: MergedConfig): string | undefined | "generate" {
  // The printed file read back as it is: only a layer above it (BUNKER_TOKEN, --token) may fill it in.
  if (values.token === REDACTED && (!values.noAuth || LAYER_KINDS.indexOf(sources.token.kind) > LAYER_KINDS.indexOf(sources.noAuth.kind))) {
    throw new UsageError(`${sources.token.label}: "${REDACTED}" is what bunker config prints in place of the token, not a token; give the real one with --token, BUNKER_TOKEN or "token" in the file`);
  }
  if (!values.noAuth) return values.token ?? "generate";
  if (values.token === undefined) return undefined;
  const tokenRank = LAYER_KINDS.indexOf(sources.token.kind);
  const noAuthRank = LAYER_KINDS.indexOf(sources.noAuth.kind);
  if (tokenRank === noAuthRank) throw new UsageError(`${sources.token.label} and ${sources.noAuth.label} contradict each other`);
  return tokenRank > noAuthRank ? values.token : undefined;
}

/**
 * Applies the defaults and the checks that span fields (auth, TLS, binding, run-as, paths).
 * Throws a UsageError that names the setting as it was given.
 */
export function resolveServeSettings(merged: MergedConfig, euid: number): ServeSettings {
  const all = { ...defaultServeConfig(euid), ...merged.values } as CompleteConfig;
  const label = (name: ServeFieldName) => merged.sources[name].label;
  const warnings: string[] = [];
  const token = resolveToken(merged);
  if (token === "generate" && all.logFormat === "json") {
    throw new UsageError(
      `${label("logFormat")}: json logs go to collectors, and a generated token would be printed into them; set --token, BUNKER_TOKEN or token in the config file (or --no-auth)`,
    );
  }
  if (typeof token === "string" && token !== "generate" && !browsersCanPresent(token)) {
    // Not refused: clients that send the Authorization header can use it. `openssl rand -base64` makes
    // such tokens (with "/" and "="). Which characters is not said: they are part of the secret.
    warnings.push(
      `WARNING: ${label("token")}: the token holds characters a browser cannot send in a WebSocket subprotocol (anything but letters, digits and !#$%&'*+-.^_\`|~), so the terminal page cannot log in with it (clients sending "Authorization: Bearer" can); letters, digits and - _ . ~ work everywhere (openssl rand -hex 32)`,
    );
  }
  if (all.tlsCert !== undefined && all.tlsKey === undefined) throw new UsageError(`${label("tlsCert")}: a certificate needs its private key too (--tls-key)`);
  if (all.tlsKey !== undefined && all.tlsCert === undefined) throw new UsageError(`${label("tlsKey")}: a private key needs its certificate too (--tls-cert)`);
  const tls =
    all.tlsCert === undefined || all.tlsKey === undefined
      ? undefined
      : { certPath: checkReadable(label("tlsCert"), all.tlsCert), keyPath: checkReadable(label("tlsKey"), all.tlsKey) };
  if (tls) checkTlsPair(tls, label("tlsCert"), label("tlsKey"));
  if (!tls && !isLoopbackHost(all.host)) {
    if (!all.insecureBind) {
      throw new UsageError(
        `${label("host")}: ${quote(all.host)} is not a loopback address, and without TLS the token and every command's output cross the network in clear text; give --tls-cert and --tls-key, or --insecure-bind when TLS ends in a proxy in front`,
      );
    }
    warnings.push(`WARNING: listening on ${all.host} without TLS (--insecure-bind): tokens and output cross the network in clear text unless a proxy in front ends TLS`);
  }
  let runAs: RunAs | undefined;
  if (all.runAs !== undefined) {
    runAs = parseRunAs(all.runAs);
    if (!runAs) throw new UsageError(`${label("runAs")}: ${quote(all.runAs)} is not UID or UID:GID`);
    if (euid !== 0 && (runAs.uid !== euid || runAs.gid !== (process.getegid?.() ?? -1))) {
      throw new UsageError(`${label("runAs")}: only a server running as root can run commands as another user (${quote(all.runAs)})`);
    }
  }
  return {
    // "[::1]" as a URL writes it: the bind and the URLs built from it want the bare address.
    host: all.host.replace(/^\[(.*)\]$/, "$1"),
    port: all.port,
    token,
    // As browsers serialise origins (`HTTPS://App.example:443/` is `https://app.example`), once here.
    allowedOrigins: all.allowOrigin.map((origin) => (origin === "*" ? origin : (normalOrigin(origin) ?? origin))),
    workspaceRoot: resolve(all.workspaceRoot),
    workspaceRetention: all.workspaceRetention,
    sandbox: all.sandbox,
    requireSandbox: all.requireSandbox,
    allowNetwork: all.allowNetwork,
    limits: {
      maxExecsPerSession: all.maxExecsPerSession,
      maxExecs: all.maxExecs,
      execTimeoutMs: all.execTimeoutMs,
      maxExecTimeoutMs: all.maxExecTimeoutMs,
      maxOutputBytes: all.maxOutputBytes,
      maxFrameBytes: all.maxFrameBytes,
      maxSessions: all.maxSessions,
      outputLogBytes: all.outputLogBytes,
      retainedOutputBytes: DEFAULT_LIMITS.retainedOutputBytes,
      retainedExecs: DEFAULT_LIMITS.retainedExecs,
      retainedRequestBytes: DEFAULT_LIMITS.retainedRequestBytes,
      maxConnections: all.maxConnections,
      maxConnectionsPerAddress: all.maxConnectionsPerAddress,
      maxMessagesPerSecond: all.maxMessagesPerSecond,
      idleTimeoutSeconds: durationMs(all.idleTimeout)! / 1000,
    },
    detachTtlMs: durationMs(all.detachTtl)!,
    sessionIdleTtlMs: durationMs(all.sessionIdleTtl)!,
    holdOutputMs: durationMs(all.holdOutput)!,
    hostId: all.hostId,
    runAs,
    rlimits: {
      cpuSeconds: all.limitCpuSeconds,
      addressSpaceBytes: all.limitAddressSpaceBytes,
      fileSizeBytes: all.limitFileSizeBytes,
      openFiles: all.limitOpenFiles,
      processes: all.limitProcesses,
    },
    tmpSizeBytes: all.tmpSizeBytes,
    workspaceQuotaBytes: all.workspaceQuotaBytes,
    protectPaths: [...new Set([...DEFAULT_PROTECTED_PATHS, ...all.protect.map((path) => checkProtectPath(label("protect"), path))])],
    allowRead: all.allowRead.map((path) => checkAllowedPath(label("allowRead"), path)),
    allowWrite: all.allowWrite.map((path) => checkAllowedPath(label("allowWrite"), path)),
    denyRead: withSecretFiles(
      all.denyRead.map((path) => checkDeniedPath(label("denyRead"), path)),
      tls?.keyPath,
    ),
    logFormat: all.logFormat,
    logLevel: all.logLevel,
    metricsPublic: all.metricsPublic,
    tls,
    trustProxy: all.trustProxy,
    warnings,
  };
}
