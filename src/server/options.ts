import type { DetectedSandbox } from "../sandbox/detect.ts";
import type { Rlimits } from "../sandbox/rlimits.ts";
import type { RunAs } from "../sandbox/run-as.ts";
import type { DeniedPath } from "../sandbox/types.ts";
import type { ExecInfo } from "../protocol/index.ts";
import { DEFAULT_MAX_MESSAGES_PER_SECOND } from "../protocol/limits.ts";
import type { Logger } from "./log.ts";

/** Everything a running server needs, defaults applied (see resolveServeOptions in cli/). */
export interface ServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** undefined: no authentication (`--no-auth`). */
  token: string | undefined;
  /** Origins besides the server's own that may open a WebSocket, exactly as browsers send them. */
  allowedOrigins: readonly string[];
  /** Real path of the directory that holds the workspaces. */
  workspaceRoot: string;
  workspaceRetention: "keep" | "delete";
  sandbox: DetectedSandbox;
  allowNetwork: boolean;
  limits: ServerLimits;
  /** Host uid and gid of sandboxed commands (`--run-as`); undefined: the server's own. */
  runAs: RunAs | undefined;
  /** Resource limits of every exec; a request may lower them. */
  rlimits: Rlimits;
  /** Size cap of each sandbox's private /tmp. */
  tmpSizeBytes: number;
  /** Paths inside each workspace that commands see read-only when present (`--protect`, plus .git/hooks and .git/config). */
  protectPaths: readonly string[];
  /** Host paths commands may read besides the system directories (`--allow-read`). */
  allowRead: readonly string[];
  /** Host paths commands may write besides their workspace (`--allow-write`). */
  allowWrite: readonly string[];
  /** Host paths hidden from commands (`--deny-read`, the config file, the TLS key), where they could reach them. */
  denyRead: readonly DeniedPath[];
  /** Workspace quota for file writes and uploads (`--workspace-quota-bytes`); undefined: none. */
  workspaceQuotaBytes: number | undefined;
  /** How long a session's commands keep running with no socket joined (`--detach-ttl`). */
  detachTtlMs: number;
  /** After a socket drops, how long its position still holds its execs' output (`--hold-output`). */
  holdOutputMs: number;
  /** How long a session with no socket and nothing running is kept for a resume (`--session-idle-ttl`). */
  sessionIdleTtlMs: number;
  /** Which instance this is, in `hello.host` (`--host-id`, default the hostname). */
  hostId: string;
  /** Certificate chain and private key, PEM (`--tls-cert`, `--tls-key`); undefined: plain ws://. */
  tls: { cert: string; key: string } | undefined;
  /** Whether `GET /metrics` answers without the token (`--metrics-public`). */
  metricsPublic: boolean;
  /** Take the client's address from the last `X-Forwarded-For` entry (`--trust-proxy`): bunker is reached only through a proxy. */
  trustProxy: boolean;
  /** Where the server's structured log lines go. */
  logger: Logger;
  /** Set by createServer for its sessions: what they report of their execs. Not for callers. */
  events?: ServerEvents;
}

/** What a session reports of its execs, for the audit log and the metrics (see createServer). */
export interface ServerEvents {
  /** An exec's process exists; `started` has just been sent. */
  onExecStart?(event: ExecEvent): void;
  /** An exec is over: `exec.exit` and `exec.bytes` hold its facts. */
  onExecEnd?(event: ExecEvent): void;
}

/** One exec of one session, as the events carry it. */
export interface ExecEvent {
  session: string;
  /** The absolute working directory it runs in. */
  cwd: string;
  exec: ExecInfo;
}

/** Server-wide limits; every count and size is checked where the thing is created. */
export interface ServerLimits {
  maxExecsPerSession: number;
  maxExecs: number;
  /** Default for execs that give no timeoutMs; 0 means the maximum. */
  execTimeoutMs: number;
  /** Cap on any exec's timeout; 0 means none. */
  maxExecTimeoutMs: number;
  /** Server default and cap for maxOutputBytes; undefined means no limit. */
  maxOutputBytes: number | undefined;
  /** Largest frame a client may send; bigger ones close the connection with 1009. */
  maxFrameBytes: number;
  /** Sessions the server holds at once, with or without sockets (`--max-sessions`). */
  maxSessions: number;
  /** Output kept per stream of each exec for replay (`--output-log-bytes`). */
  outputLogBytes: number;
  /** Output of finished execs a session keeps in all, newest first. */
  retainedOutputBytes: number;
  /** Finished execs a session remembers (ids, exits) before the oldest are forgotten. */
  retainedExecs: number;
  /** The requests (argv or cmd, env...) of finished execs a session keeps in all, serialised, before the oldest are forgotten. */
  retainedRequestBytes: number;
  /** Open WebSocket connections, all clients together (`--max-connections`). */
  maxConnections: number;
  /** Open WebSocket connections from one address, an IPv6 /64 counting as one (`--max-connections-per-address`). */
  maxConnectionsPerAddress: number;
  /** Messages a connection may send per second on average; twice as many may come in a burst (`--max-messages-per-second`). */
  maxMessagesPerSecond: number;
  /**
   * Seconds a connection may stay silent, pongs included, before it is closed (`--idle-timeout`).
   * Bun pings an idle one before then: at 45 s, about every 30 s, within the 60 s that proxies
   * (nginx's proxy_read_timeout, load balancers) give an idle connection by default.
   */
  idleTimeoutSeconds: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxExecsPerSession: 16,
  maxExecs: 64,
  execTimeoutMs: 0,
  maxExecTimeoutMs: 0,
  maxOutputBytes: undefined,
  maxFrameBytes: 1024 * 1024,
  maxSessions: 1000,
  outputLogBytes: 1024 * 1024,
  retainedOutputBytes: 8 * 1024 * 1024,
  retainedExecs: 10_000,
  retainedRequestBytes: 8 * 1024 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 1000,
  maxMessagesPerSecond: DEFAULT_MAX_MESSAGES_PER_SECOND,
  idleTimeoutSeconds: 45,
};

/** Defaults of the session lifetimes. */
export const DEFAULT_DETACH_TTL_MS = 10 * 60 * 1000;
export const DEFAULT_SESSION_IDLE_TTL_MS = 10 * 60 * 1000;
export const DEFAULT_HOLD_OUTPUT_MS = 60 * 1000;
