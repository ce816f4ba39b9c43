import * as v from "valibot";
import { MAX_TIMEOUT_MS } from "../protocol/limits.ts";
import { SANDBOX_CHOICES } from "../sandbox/detect.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../server/log.ts";
import { choice, duration, flag, secondsDuration, text, textList, token, uidGid, wholeNumber } from "./field-schemas.ts";

/** How a flag or an environment variable spells a field's value. */
export type FieldKind = "text" | "number" | "boolean" | "list";

export interface FieldSpec<S extends v.GenericSchema = v.GenericSchema> {
  schema: S;
  kind: FieldKind;
  /** One sentence; what leaving it out means is in the sentence. */
  description: string;
  /** Never printed: `bunker config` leaves it out of the file and redacts it in --sources; errors show its length only. */
  secret?: boolean;
}

function field<S extends v.GenericSchema>(schema: S, kind: FieldKind, description: string, secret = false): FieldSpec<S> {
  return { schema, kind, description, ...(secret && { secret }) };
}

const MIB = 1024 * 1024;
const MAX = Number.MAX_SAFE_INTEGER;

/**
 * Every setting of `bunker serve`, once. The key is its name in a config file; its flag is the
 * key in kebab case (`maxExecs` is `--max-execs`) and its environment variable BUNKER_ and the flag
 * in upper snake case (`BUNKER_MAX_EXECS`). Leaving a setting out means its default.
 */
export const SERVE_FIELDS = {
  host: field(text(), "text", "Address to bind; default 127.0.0.1. Any address but loopback needs TLS or insecureBind."),
  port: field(wholeNumber(0, 65535), "number", "Port; default 7681, 0 picks a free one."),
  token: field(token(), "text", "The token clients present, at least 16 characters; none set: one is generated and printed once.", true),
  noAuth: field(flag(), "boolean", "Accept every client without a token; only on a trusted machine."),
  allowOrigin: field(textList(), "list", "Browser origins besides the server's own that may connect; '*' for any."),
  workspaceRoot: field(text(), "text", "Where workspaces live; default ~/.bunker/workspaces, /var/lib/bunker/workspaces for root."),
  workspaceRetention: field(choice(["keep", "delete"]), "text", "What happens to a workspace when its session ends; default delete."),
  sandbox: field(choice(SANDBOX_CHOICES), "text", "The sandbox backend; default auto (the platform's, else none with a warning)."),
  requireSandbox: field(flag(), "boolean", "Refuse to start without OS isolation."),
  allowNetwork: field(flag(), "boolean", "Let commands use the network; default off."),
  maxExecsPerSession: field(wholeNumber(1, 100_000), "number", "Concurrent execs per session; default 16."),
  maxExecs: field(wholeNumber(1, 1_000_000), "number", "Concurrent execs per server; default 64."),
  execTimeoutMs: field(wholeNumber(0, MAX_TIMEOUT_MS), "number", "Timeout of execs that give none; default 0, the maximum."),
  maxExecTimeoutMs: field(wholeNumber(0, MAX_TIMEOUT_MS), "number", "Cap on any exec's timeout; default 0, none."),
  maxOutputBytes: field(wholeNumber(1, MAX), "number", "Default and cap of an exec's output; none set: no limit."),
  maxFrameBytes: field(wholeNumber(1024, 64 * MIB), "number", "Largest client frame; bigger ones close with 1009. Default 1 MiB."),
  maxSessions: field(wholeNumber(1, 10_000_000), "number", "Sessions held at once, with or without sockets; default 1000."),
  outputLogBytes: field(wholeNumber(1, 1024 * MIB), "number", "Output kept per stream of each exec for replay; default 1 MiB."),
  maxConnections: field(wholeNumber(1, 10_000_000), "number", "Open WebSocket connections, all clients together; default 10000."),
  maxConnectionsPerAddress: field(wholeNumber(1, 10_000_000), "number", "Open WebSocket connections per client address (IPv6: per /64); default 1000."),
  maxMessagesPerSecond: field(wholeNumber(1, 1_000_000), "number", "Messages per second per connection, twice that in a burst; more closes it with 4029. Default 1000."),
  idleTimeout: field(
    secondsDuration(8, 960),
    "text",
    "How long a connection may stay silent, pongs included, before it is closed; idle ones are pinged well before. Default 45s (pings about every 30s); 8s to 960s.",
  ),
  detachTtl: field(duration(), "text", "How long commands keep running with no socket joined; default 10m."),
  sessionIdleTtl: field(duration(), "text", "How long a session with no socket and nothing running stays resumable; default 10m."),
  holdOutput: field(duration(), "text", "After a socket drops, how long commands block rather than drop output; default 60s."),
  hostId: field(text(), "text", "This instance's name in hello.host and /healthz; default the hostname."),
  runAs: field(uidGid(), "text", "UID[:GID] that commands run as; default 65534 when the server is root, else the server's own."),
  limitCpuSeconds: field(wholeNumber(1, 1_000_000_000), "number", "CPU seconds per exec; default 600."),
  limitAddressSpaceBytes: field(wholeNumber(16 * MIB, MAX), "number", "Address space per process; default 8 GiB."),
  limitFileSizeBytes: field(wholeNumber(1, MAX), "number", "Largest file a command may write; default 2 GiB."),
  limitOpenFiles: field(wholeNumber(16, 1_048_576), "number", "Open files per process; default 4096."),
  limitProcesses: field(wholeNumber(8, 4_194_304), "number", "Processes per exec, counted inside its sandbox; default 1024."),
  tmpSizeBytes: field(wholeNumber(MIB, MAX), "number", "Size of each sandbox's private /tmp; default 512 MiB."),
  workspaceQuotaBytes: field(wholeNumber(1, MAX), "number", "Quota for file writes and uploads through the file API; none set: no quota."),
  protect: field(textList(), "list", "Paths inside each workspace that commands see read-only, besides .git/hooks and .git/config."),
  allowRead: field(textList(), "list", "Extra absolute host paths commands may read (bwrap)."),
  allowWrite: field(textList(), "list", "Extra absolute host paths commands may write (bwrap)."),
  denyRead: field(textList(), "list", "Absolute host paths commands may not read though a directory they see holds them (bwrap, seatbelt); the config file and the TLS key always are."),
  logFormat: field(choice(LOG_FORMATS), "text", "json (one object a line) or pretty (sentences); default pretty."),
  logLevel: field(choice(LOG_LEVELS), "text", "Lowest level written: debug, info, warn or error; default info."),
  metricsPublic: field(flag(), "boolean", "Serve GET /metrics without the token."),
  tlsCert: field(text(), "text", "PEM certificate chain file; with tlsKey the server speaks wss:// and https://."),
  tlsKey: field(text(), "text", "PEM private key file of tlsCert."),
  insecureBind: field(flag(), "boolean", "Allow a non-loopback host without TLS (TLS ends in a proxy in front); warns."),
  trustProxy: field(flag(), "boolean", "Take the client address from the last X-Forwarded-For entry; only when clients reach bunker through a proxy."),
} as const;

export type ServeFieldName = keyof typeof SERVE_FIELDS;

/** A config file, or any one layer of settings: every field optional. */
export type ServeConfig = { [K in ServeFieldName]?: v.InferOutput<(typeof SERVE_FIELDS)[K]["schema"]> };

/** The schema of a config file: the fields above, and nothing else (a misspelt key is an error, not ignored). */
export const ServeConfigSchema = v.strictObject(
  Object.fromEntries(Object.entries(SERVE_FIELDS).map(([name, spec]) => [name, v.optional(spec.schema)])) as {
    [K in ServeFieldName]: v.OptionalSchema<(typeof SERVE_FIELDS)[K]["schema"], undefined>;
  },
  "is not a setting",
);

export const SERVE_FIELD_NAMES = Object.keys(SERVE_FIELDS) as ServeFieldName[];

/** `maxExecs` is `--max-execs`. */
export function flagOf(name: ServeFieldName): string {
  return `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** `maxExecs` is `BUNKER_MAX_EXECS`. */
export function envOf(name: ServeFieldName): string {
  return `BUNKER_${flagOf(name).slice(2).replace(/-/g, "_").toUpperCase()}`;
}
