import { createWatchBudget } from "../../src/files/watch-budget.ts";
import { SessionRegistry } from "../../src/server/session-registry.ts";
import { DEFAULT_DETACH_TTL_MS, DEFAULT_HOLD_OUTPUT_MS, DEFAULT_LIMITS, DEFAULT_SESSION_IDLE_TTL_MS, type ServerOptions } from "../../src/server/options.ts";
import { createFallbackBackend } from "../../src/sandbox/fallback.ts";
import { createLogger } from "../../src/server/log.ts";
import { DEFAULT_RLIMITS } from "../../src/sandbox/rlimits.ts";
import type { Session } from "../../src/server/session.ts";

/** A session registry driven directly, without a server: workspaces under `root`, no sandbox. */
export function createTestRegistry(root: string, workspaceRetention: "keep" | "delete"): SessionRegistry {
  const options: ServerOptions = {
    host: "127.0.0.1",
    port: 0,
    token: undefined,
    allowedOrigins: [],
    workspaceRoot: root,
    workspaceRetention,
    sandbox: { backend: createFallbackBackend(), info: { backend: "none", reason: "test" } as ServerOptions["sandbox"]["info"], seccomp: false, rlimits: false, dispose() {} },
    allowNetwork: false,
    limits: DEFAULT_LIMITS,
    runAs: undefined,
    rlimits: DEFAULT_RLIMITS,
    tmpSizeBytes: 0,
    protectPaths: [],
    allowRead: [],
    allowWrite: [],
    denyRead: [],
    workspaceQuotaBytes: undefined,
    detachTtlMs: DEFAULT_DETACH_TTL_MS,
    holdOutputMs: DEFAULT_HOLD_OUTPUT_MS,
    sessionIdleTtlMs: DEFAULT_SESSION_IDLE_TTL_MS,
    hostId: "test",
    tls: undefined,
    metricsPublic: false,
    trustProxy: false,
    logger: createLogger({ format: "pretty", level: "error" }),
  };
  return new SessionRegistry(options, { runningExecs: 0, execSlots: 0, runningOutput: new Set(), watchedDirectories: createWatchBudget(100, "the server") });
}

/** The session `open` gave, or a throw with why it gave none. */
export function openedSession(result: ReturnType<SessionRegistry["open"]>): Session {
  if (!("session" in result)) throw new Error(`refused: ${result.message}`);
  return result.session;
}
