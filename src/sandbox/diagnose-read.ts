import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { runBwrapProbe, type BwrapProbeOptions } from "./diagnose-probe.ts";
import {
  findContainerHint,
  parseBwrapVersion,
  parseOsRelease,
  parseSeccompStatus,
  type HostFacts,
  type ProgramOutcome,
  type UsernsSysctls,
} from "./diagnose-facts.ts";
import { installReaper, reaperArchFor, type ReaperArch } from "./reaper.ts";
import { installEnter } from "./enter.ts";
import { closeSetupNamespace, openSetupNamespace, type SetupNamespace } from "./setup-namespace.ts";
import { installNetnsMaker, makeSharedNetwork, type SharedNetwork } from "./shared-network.ts";
import type { BwrapBackendOptions } from "./bwrap.ts";
import { probeSeatbelt, SANDBOX_EXEC_PATH } from "./seatbelt.ts";
import { findPrlimit } from "./detect.ts";
import { readSystemMounts } from "./system-mounts.ts";

/** `bwrap --version` answers at once; this only guards against a wedged binary. */
const VERSION_TIMEOUT_MS = 5_000;

/** Where packages put bwrap: a bwrap there but not on PATH needs a PATH, not a package. */
const WELL_KNOWN_BWRAP_PATHS = ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"];

/** What readHostFacts looks through: the PATH that decides which programs exist (the caller's, as serve sees it). */
export interface ReadHostFactsOptions {
  env: Record<string, string | undefined>;
}

/** A file's text, or undefined when it does not exist or cannot be read (not root, not Linux). */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** A sysctl by its dotted name, through /proc/sys; undefined when this kernel does not have it. */
function readSysctl(name: string): number | undefined {
  const text = readText(`/proc/sys/${name.replaceAll(".", "/")}`)?.trim();
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}

function readUsernsSysctls(): UsernsSysctls {
  return {
    unprivilegedUsernsClone: readSysctl("kernel.unprivileged_userns_clone"),
    maxUserNamespaces: readSysctl("user.max_user_namespaces"),
    apparmorRestrictUnprivilegedUserns: readSysctl("kernel.apparmor_restrict_unprivileged_userns"),
  };
}

/** pid 1's `container` variable; only root can read another process's environment, so often undefined. */
function readPid1ContainerVariable(): string | undefined {
  const environ = readText("/proc/1/environ");
  return environ?.split("\0").find((entry) => entry.startsWith("container="))?.slice("container=".length);
}

async function readBwrapVersion(bwrapPath: string): Promise<string | undefined> {
  const result = await execa(bwrapPath, ["--version"], { reject: false, stdin: "ignore", timeout: VERSION_TIMEOUT_MS });
  return result.exitCode === 0 ? parseBwrapVersion(String(result.stdout)) : undefined;
}

/**
 * The probe with a reaper of its own, installed for it and removed after, as detect.ts installs the
 * server's; then, when bwrap works, the same probe in a setup namespace, as the server runs its execs.
 */
async function probeBwrap(bwrapPath: string, arch: ReaperArch): Promise<{ plain: ProgramOutcome; setupNamespace: ProgramOutcome | undefined; sharedNetwork?: ProgramOutcome }> {
  let runtimeDir: string | undefined;
  try {
    runtimeDir = mkdtempSync(join(tmpdir(), "bunker-doctor-"));
    // The reaper must be readable by whatever uid runs bwrap.
    chmodSync(runtimeDir, 0o755);
    // By its real path, as the server runs it (detect.ts).
    const backend = { bwrapPath: realpathSync(bwrapPath), reaperPath: installReaper(runtimeDir, arch), systemMounts: readSystemMounts() };
    const probeOptions = { workspaceRoot: tmpdir(), allowNetwork: false };
    const plain = await runBwrapProbe(backend, probeOptions);
    if (plain.exitCode !== 0) return { plain, setupNamespace: undefined };
    let namespace;
    try {
      namespace = await openSetupNamespace({ ...backend, workspaceRoot: tmpdir() });
    } catch (error) {
      return { plain, setupNamespace: { exitCode: undefined, stderr: "", timedOut: false, spawnError: (error as Error).message } };
    }
    try {
      const inNamespace = namespace;
      const inSetup = { ...backend, setup: { enterPath: installEnter(runtimeDir, arch), namespace: () => inNamespace } };
      const setupNamespace = await runBwrapProbe(inSetup, probeOptions);
      if (setupNamespace.exitCode !== 0) return { plain, setupNamespace };
      return { plain, setupNamespace, sharedNetwork: await probeSharedNetwork(inSetup, installNetnsMaker(runtimeDir, arch), probeOptions) };
    } finally {
      closeSetupNamespace(namespace);
    }
  } catch (error) {
    return { plain: { exitCode: undefined, stderr: "", timedOut: false, spawnError: `could not prepare the probe: ${(error as Error).message}` }, setupNamespace: undefined };
  } finally {
    if (runtimeDir !== undefined) rmSync(runtimeDir, { recursive: true, force: true });
  }
}

/** The probe in a network namespace made for a session's commands, as the server runs them (detect.ts). */
async function probeSharedNetwork(inSetup: BwrapBackendOptions & { setup: { namespace(): SetupNamespace } }, netnsPath: string, probeOptions: BwrapProbeOptions): Promise<ProgramOutcome> {
  const namespace = inSetup.setup.namespace();
  let network: SharedNetwork;
  try {
    network = await makeSharedNetwork(netnsPath, namespace, undefined, () => namespace);
  } catch (error) {
    return { exitCode: undefined, stderr: "", timedOut: false, spawnError: (error as Error).message };
  }
  try {
    return await runBwrapProbe(inSetup, probeOptions, network);
  } finally {
    network.close();
  }
}

/**
 * Reads the real facts of this host, running bwrap (Linux) or sandbox-exec (macOS) once with the
 * server's own flags, since only a run tells whether a sandbox that is installed also works.
 */
export async function readHostFacts(options: ReadHostFactsOptions): Promise<HostFacts> {
  const path = options.env["PATH"] ?? "";
  const linux = process.platform === "linux";
  const bwrapPath = linux ? (Bun.which("bwrap", { PATH: path }) ?? undefined) : undefined;
  const arch = reaperArchFor(process.arch);
  const osRelease = readText("/etc/os-release") ?? readText("/usr/lib/os-release");
  const status = linux ? readText("/proc/self/status") : undefined;
  const [bwrapVersion, bwrapProbes, seatbeltProbe] = await Promise.all([
    bwrapPath ? readBwrapVersion(bwrapPath) : undefined,
    bwrapPath && arch ? probeBwrap(bwrapPath, arch) : undefined,
    process.platform === "darwin" ? probeSeatbelt() : undefined,
  ]);
  return {
    platform: process.platform,
    arch: process.arch,
    uid: typeof process.getuid === "function" ? process.getuid() : undefined,
    distro: osRelease === undefined ? undefined : parseOsRelease(osRelease),
    bwrapPath,
    bwrapOffPath: linux && !bwrapPath ? WELL_KNOWN_BWRAP_PATHS.find((candidate) => existsSync(candidate)) : undefined,
    bwrapVersion,
    sandboxExecPath: existsSync(SANDBOX_EXEC_PATH) ? SANDBOX_EXEC_PATH : undefined,
    // Where the server looks, not on PATH: with bwrap off PATH the doctor said to install util-linux.
    prlimitPath: linux ? findPrlimit() : undefined,
    sysctls: linux
      ? readUsernsSysctls()
      : { unprivilegedUsernsClone: undefined, maxUserNamespaces: undefined, apparmorRestrictUnprivilegedUserns: undefined },
    seccomp: status === undefined ? undefined : parseSeccompStatus(status),
    container: linux
      ? findContainerHint({
          dockerenvExists: existsSync("/.dockerenv"),
          containerenvExists: existsSync("/run/.containerenv"),
          pid1ContainerVariable: readPid1ContainerVariable(),
          pid1Cgroup: readText("/proc/1/cgroup"),
        })
      : undefined,
    bwrapProbe: bwrapProbes?.plain,
    setupNamespaceProbe: bwrapProbes?.setupNamespace,
    ...(bwrapProbes?.sharedNetwork && { sharedNetworkProbe: bwrapProbes.sharedNetwork }),
    seatbeltProbe,
  };
}
