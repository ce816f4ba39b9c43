/**
 * The benchmarks' own spawns of exactly what bunker spawns: the same backend builds the same argv,
 * environment and stdio, so a bare spawn in this process is bunker's work minus bunker.
 */
import { closeSync } from "node:fs";
import { buildExecEnv } from "../../src/exec/exec-env.ts";
import { buildSpawnStdio, closeChildEnds, closeServerEnds, openCommandPipes, openInputFiles } from "../../src/exec/stdio-slots.ts";
import { REAPER_SANDBOX_PATH } from "../../src/sandbox/bwrap.ts";
import { ENTER_JOIN_NETWORK_FLAG } from "../../src/sandbox/enter.ts";
import { detectSandbox } from "../../src/sandbox/detect.ts";
import { DEFAULT_PROTECTED_PATHS, openProtectedPathsForExec, type OpenedProtectedPath } from "../../src/sandbox/protected-paths.ts";
import { DEFAULT_RLIMITS, DEFAULT_TMP_SIZE_BYTES } from "../../src/sandbox/rlimits.ts";
import { coreBwrapSandbox } from "./core-policy.ts";
import type { SandboxCommand } from "../../src/sandbox/types.ts";

/** A spawn as bunker would make it, with the command's own environment (bwrap gets it through --args, not as its own). */
export type BenchCommand = SandboxCommand & { execEnv: Record<string, string> };

/** A sandbox backend detected here, ready to build commands for one workspace. */
export interface BenchSandbox {
  /** The spawn bunker would make for `argv` in `workspace`. */
  buildCommand(argv: readonly string[], workspace: string): BenchCommand;
  /** Removes what detection put on the host (the reaper). */
  dispose(): void;
}

/**
 * Detects `backend` the way `bunker serve --sandbox <backend>` does; throws with the reason when it
 * fails. Its commands carry what a default server adds to each exec (the resource limits, the
 * protected paths that exist, the size of /tmp), or with `policy: "core"` only the core bwrap
 * policy that peers/bunker-core-policy.ts serves (lib/core-policy.ts). As a server's, bwrap's setup
 * namespace holds `workspaceRoot` and is made as `runAs`: commands must be for workspaces under it
 * and spawned as that user (runBareSpawn checks that they exit 0, so a mismatch cannot pass for speed).
 */
export async function prepareSandbox(backend: "bwrap" | "none", workspaceRoot: string, policy: "full" | "core" = "full", runAs?: { uid: number; gid: number }): Promise<BenchSandbox> {
  const detected = await detectSandbox({ choice: backend, requireSandbox: false, allowNetwork: false, workspaceRoot, runAs });
  if (!detected.ok) throw new Error(detected.reason);
  const sandbox = policy === "core" ? coreBwrapSandbox(detected.sandbox) : detected.sandbox;
  // Protected paths stay open as long as a command built with them may be spawned.
  const opened: OpenedProtectedPath[] = [];
  // As a session's commands share one network namespace (session-network.ts), these do.
  const network = sandbox.backend.openSharedNetwork?.();
  return {
    buildCommand(argv, workspace) {
      const sandboxPolicy = { workspace, allowNetwork: false, tmpSizeBytes: DEFAULT_TMP_SIZE_BYTES };
      const env = buildExecEnv({ home: workspace, tempDir: sandbox.backend.tempDir(sandboxPolicy), requested: undefined });
      const protectedPaths = openProtectedPathsForExec(sandbox.backend.name, workspace, DEFAULT_PROTECTED_PATHS);
      if (!protectedPaths.ok) throw new Error(protectedPaths.problem);
      opened.push(...protectedPaths.opened);
      // As a session does (session.ts): the server's limits on every exec, the backend applies what it can.
      return {
        ...sandbox.backend.buildCommand({ argv, cwd: workspace, env, rlimits: DEFAULT_RLIMITS, protectedPaths: protectedPaths.opened, ...(network && { network }) }, sandboxPolicy),
        execEnv: env,
      };
    },
    dispose() {
      for (const { fd } of opened.splice(0)) closeSync(fd);
      network?.close();
      sandbox.dispose();
    },
  };
}

/**
 * Spawns `command` as bunker's runExec does (same argv, env, cwd, stdio, input files such as the
 * seccomp filter, process group, and uid with `--run-as`), reads its stdout to the end and waits for
 * it: for bwrap, its exit, after the namespace's teardown (bunker's exit message does not wait for that). The status
 * pipes (fd 3 and 4 under bwrap) are closed only after the exit: the reaper treats a closed fd 4
 * as the server's death.
 */
export async function runBareSpawn(command: SandboxCommand, runAs?: { uid: number; gid: number }): Promise<void> {
  const inputFds = openInputFiles(command);
  // The command's output on real pipes, as runExec gives it (os-pipe.ts).
  const pipes = openCommandPipes(false, runAs);
  let proc;
  try {
    proc = Bun.spawn(command.argv, {
      cwd: command.cwd,
      env: command.env,
      stdio: buildSpawnStdio(command, false, inputFds, undefined, pipes) as ["ignore", "pipe", "pipe", ...("pipe" | "ignore" | number)[]],
      detached: command.detached,
      ...(runAs && { uid: runAs.uid, gid: runAs.gid }),
    });
  } catch (error) {
    if (pipes) closeServerEnds(pipes);
    throw error;
  } finally {
    for (const fd of inputFds) closeSync(fd);
    if (pipes) closeChildEnds(pipes);
  }
  // The command's stdout: a pipe of ours, or Bun's at the process's stdout or at the backend's output fd.
  const output = command.outputFds;
  const stdoutFd = pipes ? pipes.stdout.read : output ? (proc.stdio[output.stdout] as number) : undefined;
  await new Response(stdoutFd !== undefined ? Bun.file(stdoutFd) : proc.stdout).text();
  const exitCode = await proc.exited;
  for (const index of [command.statusFds.jsonStatus, command.statusFds.waitStatus, pipes ? undefined : output?.stdout, pipes ? undefined : output?.stderr]) {
    const fd = index === undefined ? undefined : proc.stdio[index];
    if (typeof fd === "number") closeSync(fd);
  }
  // The command's stderr (bwrap's own complaints go to the process's stderr under bwrap).
  const commandStderr = pipes ? await new Response(Bun.file(pipes.stderr.read)).text() : "";
  if (pipes) closeServerEnds(pipes);
  // A spawn that failed fast would pass for a fast one.
  if (exitCode !== 0) {
    const processStderr = proc.stderr instanceof ReadableStream ? await new Response(proc.stderr).text() : "";
    throw new Error(`the bare spawn exited ${exitCode}: ${(processStderr + commandStderr).trim().slice(0, 300)}`);
  }
}

/** The installed enter program (src/sandbox/enter.ts), which starts bwrap in its setup namespace. */
const ENTER_PROGRAM = /\/enter-(x64|arm64)$/;

/** bwrap flags whose value is a file descriptor the spawner must pass. */
const FD_FLAGS = new Set(["--args", "--json-status-fd", "--info-fd", "--seccomp", "--add-seccomp-fd", "--block-fd", "--userns-block-fd", "--sync-fd"]);

/**
 * The bwrap argv as websocketd can run it. websocketd hands its child only stdin, stdout and
 * stderr, so every flag that reads another fd goes: `--json-status-fd 3` (bwrap would fail with
 * "Write to info_fd: Bad file descriptor") and `--seccomp 5` (the filter: loading it costs bwrap
 * microseconds, so its absence does not favour websocketd measurably). The reaper runs unwatched
 * without fd 4, as it does by design when fd 4 is absent. Flags after bwrap's `--` belong to the command.
 * The enter in front goes too (it joins the setup namespace through fds 7 and 8): peers run
 * bwrap itself on the host, as they would without bunker. So does the session's network namespace
 * that enter joins (`-n`, fd 11): a peer has no sessions, so its bwrap makes a network namespace
 * per command (`--share-net`, there only to keep the joined one, goes).
 */
export function withoutFdFlags(launch: readonly string[]): string[] {
  // From bwrap on: enter, which joins the setup namespace through fds, runs it otherwise.
  const entered = ENTER_PROGRAM.test(launch[0] ?? "");
  const joinsNetwork = entered && launch[1] === ENTER_JOIN_NETWORK_FLAG;
  const argv = launch.slice(entered ? (joinsNetwork ? 2 : 1) : 0);
  // bwrap's own "--" comes right before the reaper; a wrapper in front (prlimit) may have one too.
  const reaper = argv.indexOf(REAPER_SANDBOX_PATH);
  const end = reaper > 0 && argv[reaper - 1] === "--" ? reaper - 1 : argv.indexOf("--");
  const flags = end < 0 ? argv : argv.slice(0, end);
  const kept: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (FD_FLAGS.has(flags[i]!)) i++;
    else if (!(joinsNetwork && flags[i] === "--share-net")) kept.push(flags[i]!);
  }
  return end < 0 ? kept : [...kept, ...argv.slice(end)];
}

/**
 * What a peer (websocketd, the bare forwarder) spawns for `command`: its argv without the fd flags
 * (withoutFdFlags), and the command's environment as bwrap's own, which bwrap passes on to the
 * command since that argv no longer clears it.
 */
export function peerSpawnOf(command: BenchCommand): { argv: string[]; env: Record<string, string> } {
  return { argv: withoutFdFlags(command.argv), env: command.execEnv };
}
