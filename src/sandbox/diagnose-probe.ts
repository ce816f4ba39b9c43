import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { buildBwrapArgs, buildBwrapLaunch, REAPER_SANDBOX_PATH, type BwrapBackendOptions } from "./bwrap.ts";
import type { ProgramOutcome } from "./diagnose-facts.ts";
import { namespaceLinkOf, NETWORK_PROBE_ARGV, type SharedNetwork } from "./shared-network.ts";
import { placeStdio, type StdioSlot } from "../exec/stdio-slots.ts";

/** Long enough for a loaded machine; a working bwrap running /bin/true takes milliseconds. */
const PROBE_TIMEOUT_MS = 10_000;
/** bwrap's stderr is one line when it fails; a little more keeps a surprise readable without flooding. */
const MAX_STDERR_CHARS = 2_000;

/** Where the probe's throwaway workspace goes, and the policy it runs under. */
export interface BwrapProbeOptions {
  /** The server probes in its real workspace root, to meet real conditions; the doctor in the temp dir. */
  workspaceRoot: string;
  allowNetwork: boolean;
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

/**
 * Runs bwrap once with exactly the flags every exec gets (buildBwrapArgs, the reaper as pid 1,
 * fds 3 and 4 as the server opens them, in `backend.setup`'s namespace when it has one) around
 * /bin/true, and reports how it ended: a failure is
 * data, with bwrap's own words. The throwaway workspace is gone when it returns; the reaper in
 * `backend.reaperPath` is the caller's.
 */
export async function runBwrapProbe(backend: BwrapBackendOptions, options: BwrapProbeOptions, network?: SharedNetwork): Promise<ProgramOutcome> {
  let workspace: string | undefined;
  try {
    workspace = mkdtempSync(join(options.workspaceRoot, ".probe-"));
    const policy = { workspace, allowNetwork: options.allowNetwork };
    // In a session's network namespace, the command says which one it is in (as detect.ts checks).
    const launch = buildBwrapLaunch(backend, network);
    const command = launch.sharedNetwork ? NETWORK_PROBE_ARGV : ["/bin/true"];
    const args = [...buildBwrapArgs(backend, policy, workspace, false, [], launch.sharedNetwork), "--", REAPER_SANDBOX_PATH, ...command];
    const stdio: StdioSlot[] = ["ignore", "pipe", "pipe", "pipe", "pipe"];
    for (const pass of launch.passFds) placeStdio(stdio, pass.fd, pass.hostFd);
    const [program, ...prefix] = launch.argv;
    const result = await execa(program!, [...prefix, ...args], {
      reject: false,
      // execa takes an fd number at any position, but its types refuse a spread of them.
      stdio: stdio as unknown as ["ignore", "pipe", "pipe", "pipe", "pipe"],
      env: { PATH: "/usr/bin:/bin" },
      extendEnv: false,
      timeout: PROBE_TIMEOUT_MS,
    });
    const outcome: ProgramOutcome = {
      exitCode: result.exitCode,
      stderr: String(result.stderr).trim().slice(0, MAX_STDERR_CHARS),
      timedOut: result.timedOut,
    };
    // A program that never started has neither an exit code nor a signal (ENOENT, EACCES).
    if (result.exitCode === undefined && result.signal === undefined && !result.timedOut) {
      outcome.spawnError = firstLine(result.shortMessage ?? "could not be started");
    }
    if (network && result.exitCode === 0) {
      const expected = namespaceLinkOf(network);
      const seen = firstLine(String(result.stdout));
      if (seen !== expected) return { ...outcome, exitCode: 1, stderr: `the command was in ${seen || "no namespace it could name"}, not the session's ${expected}` };
    }
    return outcome;
  } catch (error) {
    return { exitCode: undefined, stderr: "", timedOut: false, spawnError: firstLine((error as Error).message) };
  } finally {
    if (workspace !== undefined) rmSync(workspace, { recursive: true, force: true });
  }
}
