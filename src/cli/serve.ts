import { randomBytes } from "node:crypto";
import { detectSandbox } from "../sandbox/detect.ts";
import { createServer, type BunkerServer } from "../server/create-server.ts";
import { ensureWorkspaceRoot } from "../workspace/create.ts";
import { SERVE_HELP } from "./help.ts";
import { parseServeArgs } from "./serve-args.ts";
import { UsageError } from "./usage-error.ts";

/** What `bunker serve` gives back to main: the server, and how to stop it. */
export interface ServeOutcome {
  server: BunkerServer;
  /** Stops the server and removes what the sandbox put on the host. */
  shutdown(): Promise<void>;
}

/**
 * Runs `bunker serve`: parses flags, probes the sandbox, starts listening, and prints one line.
 * Returns undefined when only help was asked for. Throws UsageError for misuse (exit 2).
 */
export async function runServe(args: string[], env: Record<string, string | undefined>): Promise<ServeOutcome | undefined> {
  const settings = parseServeArgs(args, env);
  if (settings === "help") {
    process.stdout.write(SERVE_HELP);
    return undefined;
  }
  let workspaceRoot: string;
  try {
    workspaceRoot = ensureWorkspaceRoot(settings.workspaceRoot, settings.runAs);
  } catch (error) {
    throw new UsageError(`--workspace-root: ${(error as Error).message}`);
  }
  const detected = await detectSandbox({
    choice: settings.sandbox,
    requireSandbox: settings.requireSandbox,
    allowNetwork: settings.allowNetwork,
    workspaceRoot,
    runAs: settings.runAs,
  });
  if (!detected.ok) throw new UsageError(`sandbox: ${detected.reason}`);
  const sandbox = detected.sandbox;
  if (sandbox.info.backend === "none") {
    process.stderr.write(
      `WARNING: commands run WITHOUT a sandbox (${sandbox.info.reason}). Not enforced: ${(sandbox.info.notEnforced ?? []).join("; ")}.\n`,
    );
  }

  const generated = settings.token === "generate";
  const token = generated ? randomBytes(32).toString("base64url") : settings.token;
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
    });
  } catch (error) {
    sandbox.dispose();
    throw new UsageError(`cannot listen on ${settings.host}:${settings.port}: ${(error as Error).message}`);
  }
  process.stderr.write(`bunker listening on ${server.url.href} (sandbox: ${sandbox.info.backend}, workspaces: ${workspaceRoot})\n`);
  if (generated) {
    // Printed once, in a fragment: browsers never send fragments to servers or in Referer headers.
    const page = new URL(server.url.href.replace(/^ws/, "http"));
    page.pathname = "/";
    page.hash = `token=${token}`;
    process.stderr.write(`token generated for this run: ${page.href}\n`);
  }
  return {
    server,
    async shutdown() {
      await server.stop();
      sandbox.dispose();
    },
  };
}
