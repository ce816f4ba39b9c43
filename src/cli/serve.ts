import { randomText } from "../common/random-text.ts";
import { allowedPathProblem } from "../config/allowed-paths.ts";
import { isInside } from "../workspace/confine.ts";
import { readFileSync } from "node:fs";
import { detectSandbox, type DetectedSandbox } from "../sandbox/detect.ts";
import { sweepStaleRuntimeDirs } from "../sandbox/runtime-dir.ts";
import { hideablePaths } from "../sandbox/hideable-paths.ts";
import type { BunkerServer } from "../server/create-server.ts";
import { createLogger, formatLogLine, type Logger } from "../server/log.ts";
import { writeStderr } from "../server/log-stderr.ts";
import { ensureWorkspaceRoot } from "../workspace/create.ts";
import { namingKeyOf } from "../workspace/naming.ts";
import { registerInWorkspaceRoot, type RootRegistration } from "../workspace/root-lock.ts";
import { removeEndedWorkspaces } from "../workspace/ended-workspaces.ts";
import { printOutput } from "./broken-pipe.ts";
import { SERVE_HELP } from "./help.ts";
import { parseServeArgs } from "./serve-args.ts";
import { UsageError, quote } from "./usage-error.ts";

/** What `bunker serve` gives back to main: the server, its log, and how to stop it. */
export interface ServeOutcome {
  server: BunkerServer;
  logger: Logger;
  /**
   * Logs the "listening" line (and a generated token). Separate from runServe so that main can
   * install its signal handlers first: whoever sends SIGTERM on seeing the line gets a clean stop.
   */
  announce(): void;
  /** Stops the server and removes what the sandbox put on the host. */
  shutdown(): Promise<void>;
}

function readPem(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`${flag}: ${quote(path)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** What a program embedding serve may change; nothing here is reachable from flags, environment or config. */
export interface ServeHooks {
  /**
   * Replaces the detected sandbox before the server starts. The benchmarks use it to measure the
   * core bwrap policy (bench/lib/core-policy.ts), which no setting offers: deny by default.
   */
  adjustSandbox?(detected: DetectedSandbox): DetectedSandbox;
}

/**
 * Runs `bunker serve`: reads its settings, probes the sandbox and starts listening; the outcome's
 * announce() then logs where. Returns undefined when only help was asked for (printed, with
 * process.exitCode 141 if stdout's reader went away first). Throws UsageError
 * for misuse (exit 2).
 */
export async function runServe(args: string[], env: Record<string, string | undefined>, hooks: ServeHooks = {}): Promise<ServeOutcome | undefined> {
  const settings = parseServeArgs(args, env);
  if (settings === "help") {
    process.exitCode = await printOutput(SERVE_HELP);
    return undefined;
  }
  const log = createLogger({ format: settings.logFormat, level: settings.logLevel });
  for (const warning of settings.warnings) log.warn("config.warning", {}, warning);
  let workspaceRoot: string;
  let rootLock: RootRegistration;
  try {
    workspaceRoot = ensureWorkspaceRoot(settings.workspaceRoot, settings.runAs);
  } catch (error) {
    throw new UsageError(`--workspace-root: ${(error as Error).message}`);
  }
  // Here, not with the other settings: the workspace root is known (and real) only once it exists.
  for (const [flag, paths, writable] of [["--allow-read", settings.allowRead, false], ["--allow-write", settings.allowWrite, true]] as const) {
    for (const path of paths) {
      const problem = allowedPathProblem(path, writable, workspaceRoot);
      if (problem) throw new UsageError(`${flag}: ${quote(path)} cannot be given to commands: ${problem}`);
    }
  }
  // Hidden after the workspace's bind, a directory that holds the workspace root hid every
  // workspace from its commands: every exec failed (found by a review).
  const hidingRoot = settings.denyRead.find(({ path }) => isInside(path, workspaceRoot));
  if (hidingRoot) throw new UsageError(`--deny-read: ${quote(hidingRoot.path)} holds the workspace root ${workspaceRoot}: commands could reach no workspace`);
  try {
    // Made (or read) now, so that a root where it cannot be is refused at start, not at the first session.
    namingKeyOf(workspaceRoot);
    rootLock = registerInWorkspaceRoot(workspaceRoot);
  } catch (error) {
    throw new UsageError(`--workspace-root: ${(error as Error).message}`);
  }
  if (rootLock.others.length > 0) {
    log.warn(
      "workspace_root.shared",
      { workspaceRoot, others: rootLock.others.join(",") },
      `WARNING: ${workspaceRoot} is also the workspace root of another bunker server (pid ${rootLock.others.join(", ")}): a session name used on both gets one workspace, and one server's end of it deletes the other's. Give each server its own --workspace-root.`,
    );
  }
  // The probe's bwrap runs in its own process while this one loads the server's code (sessions,
  // exec, files: a chunk of its own, see build.ts), which `serve` needs only from here on: ~2.5 ms
  // of loading under the probe instead of after it (measured: "listening" 1 to 2 ms sooner). The
  // probe is ~19 ms here: bwrap's setup namespace made (~8 ms), then one bwrap run through it.
  const [detected, { createServer }] = await Promise.all([
    detectSandbox({
      choice: settings.sandbox,
      requireSandbox: settings.requireSandbox,
      allowNetwork: settings.allowNetwork,
      workspaceRoot,
      runAs: settings.runAs,
      allowRead: settings.allowRead,
      allowWrite: settings.allowWrite,
      rlimits: settings.rlimits,
    }),
    import("../server/create-server.ts"),
  ]);
  if (!detected.ok) {
    rootLock.release();
    throw new UsageError(`sandbox: ${detected.reason}`);
  }
  const sandbox = hooks.adjustSandbox ? hooks.adjustSandbox(detected.sandbox) : detected.sandbox;
  if (sandbox.info.backend === "none") {
    const notEnforced = sandbox.info.notEnforced ?? [];
    log.warn(
      "sandbox.none",
      { reason: sandbox.info.reason, notEnforced },
      `WARNING: commands run WITHOUT a sandbox (${sandbox.info.reason}). Not enforced: ${notEnforced.join("; ")}.`,
    );
  } else if (sandbox.info.backend === "bwrap" && sandbox.info.notEnforced !== undefined) {
    // Seatbelt always lists what it cannot enforce (hello carries it); bwrap only when it lost a part.
    const { notEnforced } = sandbox.info;
    log.warn("sandbox.weakened", { backend: sandbox.info.backend, notEnforced }, `WARNING: the ${sandbox.info.backend} sandbox runs without: ${notEnforced.join("; ")}.`);
  }
  if (sandbox.networkNotShared !== undefined) {
    log.warn(
      "sandbox.network_not_shared",
      { reason: sandbox.networkNotShared },
      `WARNING: a session's commands do not share a network namespace here, each gets its own (a server one command runs is not reached from the next): ${sandbox.networkNotShared}`,
    );
  }
  const tls = settings.tls && { cert: readPem("--tls-cert", settings.tls.certPath), key: readPem("--tls-key", settings.tls.keyPath) };

  const generated = settings.token === "generate";
  const token = generated ? randomText(32, "base64url") : settings.token;
  let server: BunkerServer;
  try {
    server = createServer({
      host: settings.host,
      port: settings.port,
      token,
      allowedOrigins: settings.allowedOrigins,
      workspaceRoot,
      workspaceRetention: settings.workspaceRetention,
      sandbox,
      allowNetwork: settings.allowNetwork,
      limits: settings.limits,
      detachTtlMs: settings.detachTtlMs,
      sessionIdleTtlMs: settings.sessionIdleTtlMs,
      holdOutputMs: settings.holdOutputMs,
      hostId: settings.hostId,
      runAs: settings.runAs,
      rlimits: settings.rlimits,
      tmpSizeBytes: settings.tmpSizeBytes,
      workspaceQuotaBytes: settings.workspaceQuotaBytes,
      protectPaths: settings.protectPaths,
      allowRead: settings.allowRead,
      allowWrite: settings.allowWrite,
      denyRead: hideablePaths(settings.denyRead, settings.runAs),
      tls,
      metricsPublic: settings.metricsPublic,
      trustProxy: settings.trustProxy,
      logger: log,
    });
  } catch (error) {
    sandbox.dispose();
    rootLock.release();
    throw new UsageError(`cannot listen on ${settings.host}:${settings.port}: ${(error as Error).message}`);
  }
  return {
    server,
    logger: log,
    announce() {
      // Tests and scripts find the port in this sentence (also inside the json line's msg). It is
      // written even below info (--log-level warn): `--port 0` must say which port it took.
      const fields = { url: server.url.href, port: server.port, sandbox: sandbox.info.backend, workspaceRoot, host: settings.hostId, tls: tls !== undefined };
      const sentence = `bunker listening on ${server.url.href} (sandbox: ${sandbox.info.backend}, workspaces: ${workspaceRoot})`;
      if (log.enabled("info")) log.info("listening", fields, sentence);
      else writeStderr(`${formatLogLine(settings.logFormat, () => new Date(), "info", "listening", fields, sentence)}\n`);
      // Out at once, and before the token line: whoever waits for it is waiting now.
      log.flush();
      if (generated) {
        // Not a log line: printed once, for the person at the terminal, and never in json format
        // (refused at startup). In a fragment, because browsers never send fragments to servers or
        // in Referer headers.
        const page = new URL(server.url.href.replace(/^ws/, "http"));
        page.pathname = "/";
        page.hash = `token=${token}`;
        writeStderr(`token generated for this run: ${page.href}\n`);
      }
      // The binary starts with the JIT's tier-up thresholds raised (build.ts, jitPolicy): startup
      // code runs once and is not worth compiling. From here on, code that runs often is.
      Bun.unsafe.setJITPolicy(1);
      // What servers killed with SIGKILL left in /tmp and in the root goes now, off the path to "listening".
      setTimeout(() => {
        const removed = sweepStaleRuntimeDirs();
        if (removed.length > 0) log.info("runtime.swept", { count: removed.length }, `bunker: removed ${removed.length} runtime director${removed.length === 1 ? "y" : "ies"} left by servers that were killed`);
        void removeEndedWorkspaces(workspaceRoot).then((ended) => {
          if (ended.removed > 0) log.info("workspaces.swept", { count: ended.removed }, `bunker: removed ${ended.removed} workspace${ended.removed === 1 ? "" : "s"} of sessions that had ended`);
          if (ended.failure !== undefined) log.warn("workspace.remove_failed", { workspace: workspaceRoot, error: ended.failure }, `bunker: a workspace of a session that had ended could not be removed (${ended.failure}); what is left of it stays on disk`);
        });
      }, 0).unref();
    },
    async shutdown() {
      try {
        await server.stop();
        sandbox.dispose();
      } finally {
        rootLock.release();
      }
    },
  };
}
