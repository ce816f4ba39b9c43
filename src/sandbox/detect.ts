import { chownSync, closeSync, mkdtempSync, openSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { SandboxInfo } from "../protocol/index.ts";
import type { ProbeResult, SandboxBackend, SandboxPolicy } from "./types.ts";
import { buildBwrapArgs, buildBwrapLaunch, createBwrapBackend, REAPER_SANDBOX_PATH, type BwrapBackendOptions } from "./bwrap.ts";
import { createFallbackBackend, FALLBACK_NOT_ENFORCED } from "./fallback.ts";
import { createSeatbeltBackend, probeSeatbelt, probeSeatbeltRlimits, SEATBELT_NOT_ENFORCED } from "./seatbelt.ts";
import { decodeReaperRecords, installReaper, reaperArchFor } from "./reaper.ts";
import { installEnter } from "./enter.ts";
import { installNetnsMaker, makeSharedNetwork, namespaceLinkOf, NETWORK_PROBE_ARGV, type SharedNetwork } from "./shared-network.ts";
import { createNetworkSupply, type NetworkSupply } from "./network-supply.ts";
import { hostSeccompArch } from "./seccomp/arch.ts";
import { installSeccompFilter } from "./seccomp/install-filter.ts";
import { readSystemMounts } from "./system-mounts.ts";
import { createRuntimeDir } from "./runtime-dir.ts";
import { buildReaperLimitArgs, DEFAULT_RLIMITS, type Rlimits } from "./rlimits.ts";
import type { RunAs } from "./run-as.ts";
import { closeSetupNamespace, openSetupNamespace, type SetupNamespace, type SetupNamespaceOptions } from "./setup-namespace.ts";
import { createSetupNamespaceKeeper, type SetupNamespaceKeeper } from "./setup-namespace-keeper.ts";
import { readWrittenText } from "./written-text.ts";
import { limitAboveHard, readHardLimits } from "./hard-limits.ts";
import { placeStdio, type StdioSlot } from "../exec/stdio-slots.ts";
import { openAnonymousFile } from "../exec/anonymous-file.ts";
import { readAvailable } from "../exec/status-pipes.ts";
import { errnoName } from "../exec/exit-facts.ts";

export const SANDBOX_CHOICES = ["auto", "bwrap", "seatbelt", "none"] as const;
export type SandboxChoice = (typeof SANDBOX_CHOICES)[number];

export interface DetectSandboxOptions {
  choice: SandboxChoice;
  requireSandbox: boolean;
  allowNetwork: boolean;
  /** Where the probe makes its throwaway workspace: the real workspace root, so that it meets real conditions. */
  workspaceRoot: string;
  /** The uid and gid commands run as: the probe runs as them too. */
  runAs?: RunAs | undefined;
  /** The extra host paths commands may read and write: bwrap's setup namespace shows them. */
  allowRead?: readonly string[];
  allowWrite?: readonly string[];
  /**
   * The limits commands run with: the probe applies them too (default DEFAULT_RLIMITS). With the
   * defaults, a host whose hard open-file limit was under 4096 failed the probe even when
   * --limit-open-files had been lowered to fit (found by a review).
   */
  rlimits?: Rlimits;
}

/** The backend the server runs with, what hello reports about it, and what to clean up at exit. */
export interface DetectedSandbox {
  backend: SandboxBackend;
  info: SandboxInfo;
  /** Whether each exec gets the seccomp filter. */
  seccomp: boolean;
  /** Whether each exec gets its resource limits (prlimit was found). */
  rlimits: boolean;
  /**
   * bwrap without --allow-network: why a session's commands do not share a network namespace here
   * (each gets its own; shared-network.ts), for the startup log. Undefined when they do, or elsewhere.
   */
  networkNotShared?: string;
  /** Removes files the backend put on the host (the reaper). */
  dispose(): void;
}

/**
 * `fatal`: a mistake in the configuration (an allowed path the commands' user cannot reach), which
 * must stop the server rather than send it to the next backend, or to none.
 */
export type DetectSandboxResult = { ok: true; sandbox: DetectedSandbox } | { ok: false; reason: string; fatal?: true };

/** A probe's outcome; `fatal`: bwrap works, but no command could start in it (see probeBwrap). */
type BwrapProbeResult = ProbeResult | { ok: false; reason: string; fatal: true };

/** EPERM: what prlimit64 returns for a hard limit above the caller's own. */
const EPERM = 1;

async function probeBwrap(options: BwrapBackendOptions, workspaceRoot: string, allowNetwork: boolean, runAs: RunAs | undefined, rlimits: Rlimits, network?: SharedNetwork): Promise<BwrapProbeResult> {
  const workspace = mkdtempSync(join(workspaceRoot, ".probe-"));
  if (runAs) chownSync(workspace, runAs.uid, runAs.gid);
  let seccompFd: number | undefined;
  let stderrFd: number | undefined;
  let stdoutFd: number | undefined;
  try {
    const policy: SandboxPolicy = { workspace, allowNetwork };
    // Launched as every exec is: in the setup namespace when there is one, in a session's network
    // namespace when given one, where the command says which one it is in (NETWORK_PROBE_ARGV):
    // an enter that did not join (a build for another architecture gone wrong) would leave
    // commands on the host's network.
    const launch = buildBwrapLaunch(options, allowNetwork ? undefined : network);
    const sharing = launch.sharedNetwork ? network : undefined;
    const args = [
      ...buildBwrapArgs(options, policy, workspace, false, [], launch.sharedNetwork),
      "--",
      REAPER_SANDBOX_PATH,
      ...buildReaperLimitArgs(rlimits),
      ...(sharing ? NETWORK_PROBE_ARGV : ["/bin/true"]),
    ];
    seccompFd = options.seccompFilterPath ? openSync(options.seccompFilterPath, "r") : undefined;
    // bwrap's stderr goes to a file with no name, read only if the probe fails: a pipe read as a web
    // stream paged in the stream machinery at every start (~1 MiB of idle RSS, measured).
    stderrFd = openAnonymousFile(new Uint8Array());
    // Bun.spawn rather than execa here: this runs at every startup, and loading execa alone
    // measured ~60 ms and ~17 MB of a compiled binary's start (docs/BENCHMARKS.md, "binary").
    // Without fds 9 and 10 the reaper leaves the command bwrap's own stdout.
    if (sharing) stdoutFd = openAnonymousFile(new Uint8Array());
    const stdio: StdioSlot[] = ["ignore", stdoutFd ?? "ignore", stderrFd, "pipe", "pipe", seccompFd ?? "ignore"];
    for (const pass of launch.passFds) placeStdio(stdio, pass.fd, pass.hostFd);
    const proc = Bun.spawn([...launch.argv, ...args], {
      stdio: stdio as ["ignore", "ignore", number, ...("pipe" | "ignore" | number)[]],
      env: { PATH: "/usr/bin:/bin" },
      timeout: 10_000,
      ...(runAs && { uid: runAs.uid, gid: runAs.gid }),
    });
    const exitCode = await proc.exited;
    // The reaper's record: one of a start that failed (kind 1) says that the sandbox was set up.
    const recordFd = proc.stdio[4];
    const records = typeof recordFd === "number" ? decodeReaperRecords(readAvailable(recordFd)) : {};
    for (const index of [3, 4]) {
      const fd = proc.stdio[index];
      if (typeof fd === "number") closeSync(fd);
    }
    if (sharing) {
      // Not fatal: the caller probes again without it, and each command then gets its own.
      const expected = namespaceLinkOf(sharing);
      const seen = exitCode === 0 ? readWrittenText(stdoutFd!) : `exit code ${exitCode}: ${readWrittenText(stderrFd)}`;
      return seen === expected ? { ok: true } : { ok: false, reason: `a command in the session's network namespace saw ${seen}, not ${expected}` };
    }
    if (exitCode === 0) return { ok: true };
    if (records.execErrno !== undefined) {
      // Not a sandbox that cannot run here, which --sandbox auto would run commands without: every
      // exec would fail the same way, under none too (prlimit there). A hard limit under a
      // --limit-* (the default 4096 open files against a host's 1024) fell back to none, blaming
      // user namespaces, and then failed every exec with EPERM (found by a review).
      const hint =
        records.execErrno === EPERM
          ? "; a --limit-* value above the server's own hard limit (ulimit -H) cannot be set: lower it (--limit-open-files 1024, say), or raise the hard limit"
          : "";
      return {
        ok: false,
        fatal: true,
        reason: `bwrap runs, but inside it the reaper could not set the limits commands run with, or start /bin/true: ${errnoName(records.execErrno)}${hint}`,
      };
    }
    const detail = readWrittenText(stderrFd) || `exit code ${exitCode}`;
    const likely = options.setup
      ? "in its setup namespace (docs/TROUBLESHOOTING.md)"
      : "(user namespaces disabled, an unprivileged container, or AppArmor's restriction on Ubuntu 24.04 and later)";
    return { ok: false, reason: `bwrap failed its probe: ${detail} ${likely}` };
  } catch (error) {
    return { ok: false, reason: `bwrap could not be run: ${(error as Error).message}` };
  } finally {
    if (seccompFd !== undefined) closeSync(seccompFd);
    if (stderrFd !== undefined) closeSync(stderrFd);
    if (stdoutFd !== undefined) closeSync(stdoutFd);
    rmSync(workspace, { recursive: true, force: true });
  }
}

async function detectBwrap(options: DetectSandboxOptions): Promise<DetectSandboxResult> {
  if (process.platform !== "linux") return { ok: false, reason: "bwrap exists only on Linux" };
  const found = Bun.which("bwrap");
  if (!found) return { ok: false, reason: "bwrap is not installed (apt-get install bubblewrap)" };
  const rlimits = options.rlimits ?? DEFAULT_RLIMITS;
  // By its real path: the setup namespace has the system directories and, bound alone, the file
  // bwrap really is, but not a symlink to it that lies elsewhere (/opt/bin/bwrap -> /usr/bin/bwrap).
  const bwrapPath = realpathSync(found);
  const arch = reaperArchFor(process.arch);
  if (!arch) return { ok: false, reason: `no reaper for the ${process.arch} architecture` };
  const seccompArch = hostSeccompArch();
  // The reaper must be readable by whatever uid runs bwrap, and nobody else may replace it.
  const runtimeDir = createRuntimeDir();
  const dispose = () => runtimeDir.dispose();
  const backendOptions: BwrapBackendOptions = {
    bwrapPath,
    reaperPath: installReaper(runtimeDir.path, arch),
    // Every supported reaper arch has a filter; hostSeccompArch is undefined only elsewhere.
    ...(seccompArch && { seccompFilterPath: installSeccompFilter(runtimeDir.path, seccompArch) }),
    systemMounts: readSystemMounts(),
    lookUpPrograms: true,
  };
  const setupOptions: SetupNamespaceOptions = {
    bwrapPath,
    reaperPath: backendOptions.reaperPath,
    systemMounts: backendOptions.systemMounts,
    workspaceRoot: options.workspaceRoot,
    ...(options.allowRead && { allowRead: options.allowRead }),
    ...(options.allowWrite && { allowWrite: options.allowWrite }),
    runAs: options.runAs,
  };
  const setup = await makeSetupNamespace(setupOptions);
  if (!setup.ok && setup.fatal) {
    dispose();
    return setup;
  }
  const enterPath = installEnter(runtimeDir.path, arch);
  const netnsPath = installNetnsMaker(runtimeDir.path, arch);
  // The probe runs as a session's exec does: in a network namespace for the session's commands to
  // share (shared-network.ts), which then waits as the first session's. Where that namespace
  // cannot be made or joined, each command gets its own: the probe tells by running once more
  // without it (a startup cost only where sharing fails).
  // The setup namespace is the keeper's from when there is one: a namespace made in one it replaced is stale.
  const firstSetup = setup.ok ? setup.namespace : undefined;
  let currentSetup = () => firstSetup!;
  let networkNotShared: string | undefined;
  let network = firstSetup && !options.allowNetwork
    ? await makeSharedNetwork(netnsPath, firstSetup, options.runAs, () => currentSetup()).catch((error: Error) => void (networkNotShared = error.message))
    : undefined;
  const probeInSetup = () =>
    setup.ok ? probeBwrap({ ...backendOptions, setup: { enterPath, namespace: () => setup.namespace } }, options.workspaceRoot, options.allowNetwork, options.runAs, rlimits, network) : setup;
  let probe: BwrapProbeResult = await probeInSetup();
  if (!probe.ok && network) {
    networkNotShared = probe.reason;
    network.close();
    network = undefined;
    probe = await probeInSetup();
  }
  if (!probe.ok && "fatal" in probe && probe.fatal) {
    if (setup.ok) closeSetupNamespace(setup.namespace);
    dispose();
    return probe;
  }
  const setupNamespaceFailure = probe.ok ? undefined : probe.reason;
  let keeper: SetupNamespaceKeeper | undefined;
  let networks: NetworkSupply | undefined;
  if (setup.ok && probe.ok) {
    const current = createSetupNamespaceKeeper(setup.namespace, setupOptions);
    keeper = current;
    // Without a stat of the host per exec: the launch's own current() sees a replaced root first.
    currentSetup = () => current.latest();
    if (network) networks = createNetworkSupply(netnsPath, currentSetup, options.runAs, network);
    backendOptions.setup = { enterPath, namespace: () => current.current(), ...(networks && { networks }) };
  } else {
    if (setup.ok) closeSetupNamespace(setup.namespace);
    probe = await probeBwrap(backendOptions, options.workspaceRoot, options.allowNetwork, options.runAs, rlimits);
  }
  if (!probe.ok) {
    dispose();
    return probe;
  }
  return {
    ok: true,
    sandbox: {
      backend: createBwrapBackend(backendOptions),
      info: {
        backend: "bwrap",
        network: options.allowNetwork,
        ...(setupNamespaceFailure !== undefined && {
          notEnforced: [`setup namespace: ${setupNamespaceFailure}; bwrap makes its mount points on the host, where a command racing it can redirect them (docs/SECURITY.md)`],
        }),
      },
      seccomp: backendOptions.seccompFilterPath !== undefined,
      rlimits: true,
      // Said only where the setup namespace works: without it the log says so already.
      ...(networkNotShared !== undefined && setupNamespaceFailure === undefined && { networkNotShared }),
      dispose() {
        networks?.close();
        keeper?.close();
        dispose();
      },
    },
  };
}

/**
 * bwrap's setup namespace (setup-namespace.ts) for this server's workspaces, or why there is none.
 * When it fails only with the allowed paths, one of them cannot be bound for the commands' user:
 * every exec would fail on it too, so that is a fatal mistake of the configuration.
 */
async function makeSetupNamespace(options: SetupNamespaceOptions): Promise<{ ok: true; namespace: SetupNamespace } | { ok: false; reason: string; fatal?: true }> {
  try {
    return { ok: true, namespace: await openSetupNamespace(options) };
  } catch (error) {
    const reason = (error as Error).message;
    if ((options.allowRead ?? []).length + (options.allowWrite ?? []).length === 0) return { ok: false, reason };
    const { allowRead: _read, allowWrite: _write, ...withoutAllowed } = options;
    const bare = await openSetupNamespace(withoutAllowed).catch(() => undefined);
    if (!bare) return { ok: false, reason };
    closeSetupNamespace(bare);
    return { ok: false, fatal: true, reason: `an --allow-read or --allow-write path cannot be bound for the commands' user: ${reason}` };
  }
}

async function detectSeatbelt(options: DetectSandboxOptions): Promise<DetectSandboxResult> {
  const probe = await probeSeatbelt();
  if (!probe.ok) return probe;
  // Limits this Mac refuses must not cost the whole sandbox: execs then run without them, and hello says why.
  const rlimitsProbe = await probeSeatbeltRlimits(options.rlimits ?? DEFAULT_RLIMITS);
  return {
    ok: true,
    sandbox: {
      // Each session's TMPDIR is <workspace>/.tmp, which the session creates: nothing to make or remove here.
      backend: createSeatbeltBackend({ applyRlimits: rlimitsProbe.ok }),
      info: {
        backend: "seatbelt",
        network: options.allowNetwork,
        notEnforced: rlimitsProbe.ok ? SEATBELT_NOT_ENFORCED : [`rlimits: not applied, ${rlimitsProbe.reason}`],
      },
      seccomp: false,
      rlimits: rlimitsProbe.ok,
      dispose: () => {},
    },
  };
}

/**
 * prlimit(1) from util-linux, in a directory every sandbox binds (rlimits are not enforced without
 * it), whatever the server's PATH: `bunker doctor` looks there too.
 */
export function findPrlimit(): string | undefined {
  return Bun.which("prlimit", { PATH: "/usr/bin:/bin" }) ?? undefined;
}

/**
 * The workspace-only fallback. On Linux the reaper applies the limits (no extra exec). Limits the
 * commands' user cannot set would fail every exec, so they stop the server (`fatal`) instead: such
 * a user (any but root) cannot raise the server's hard limits. Elsewhere prlimit(1), where there is one.
 */
function fallback(reason: string, options: DetectSandboxOptions): DetectSandboxResult {
  const info: SandboxInfo = { backend: "none", reason, notEnforced: FALLBACK_NOT_ENFORCED, network: true };
  const arch = process.platform === "linux" ? reaperArchFor(process.arch) : undefined;
  if (arch) {
    const commandUid = options.runAs ? options.runAs.uid : process.geteuid?.();
    const unsettable = commandUid === 0 ? undefined : limitAboveHard(options.rlimits ?? DEFAULT_RLIMITS, readHardLimits());
    if (unsettable) return { ok: false, fatal: true, reason: `--sandbox none: ${unsettable}` };
    const runtimeDir = createRuntimeDir();
    return {
      ok: true,
      sandbox: {
        backend: createFallbackBackend({ reaperPath: installReaper(runtimeDir.path, arch) }),
        info,
        seccomp: false,
        rlimits: true,
        dispose: () => runtimeDir.dispose(),
      },
    };
  }
  const prlimitPath = findPrlimit();
  return {
    ok: true,
    sandbox: { backend: createFallbackBackend(prlimitPath ? { prlimitPath } : {}), info, seccomp: false, rlimits: prlimitPath !== undefined, dispose: () => {} },
  };
}

/**
 * The one place that decides which sandbox runs: by running the real thing once, since a binary
 * that exists often fails (user namespaces off, AppArmor, unprivileged containers).
 */
export async function detectSandbox(options: DetectSandboxOptions): Promise<DetectSandboxResult> {
  switch (options.choice) {
    case "none":
      if (options.requireSandbox) return { ok: false, reason: "--require-sandbox refuses --sandbox none" };
      return fallback("chosen with --sandbox none", options);
    case "bwrap":
      return detectBwrap(options);
    case "seatbelt":
      return detectSeatbelt(options);
    case "auto": {
      const detected =
        process.platform === "linux"
          ? await detectBwrap(options)
          : process.platform === "darwin"
            ? await detectSeatbelt(options)
            : ({ ok: false, reason: `no sandbox backend for ${process.platform}` } as const);
      if (detected.ok || ("fatal" in detected && detected.fatal)) return detected;
      if (options.requireSandbox) return { ok: false, reason: `--require-sandbox: ${detected.reason}` };
      return fallback(detected.reason, options);
    }
    default: {
      const unreachable: never = options.choice;
      return unreachable;
    }
  }
}
