/**
 * What `bunker doctor` knows about the host, as plain data: readHostFacts (diagnose-read.ts) reads
 * it from the system, tests write it by hand for hosts this machine cannot be. The parsers here
 * are pure so that every odd /proc or /etc text can be tested anywhere.
 */
import type { ProbeResult } from "./types.ts";

/** How one run of a program ended; a failure is data, not an exception. */
export interface ProgramOutcome {
  /** undefined when it never ran or was killed by a signal. */
  exitCode: number | undefined;
  /** Its stderr, trimmed; or why it could not be started at all. */
  stderr: string;
  timedOut: boolean;
  /** Set when the program could not be started (ENOENT, EACCES, ...). */
  spawnError?: string;
}

/** The container runtimes the diagnosis gives specific fixes for; "other" gets the generic one. */
export type ContainerKind = "docker" | "podman" | "kubernetes" | "lxc" | "systemd-nspawn" | "other";

/** A sign that bunker runs inside a container, and the file or value that gave it away. */
export interface ContainerHint {
  kind: ContainerKind;
  evidence: string;
}

/** The kernel knobs that decide whether bwrap may create user namespaces; undefined: the file does not exist. */
export interface UsernsSysctls {
  /** kernel.unprivileged_userns_clone: a Debian/Ubuntu kernel patch; 0 forbids it to non-root users. */
  unprivilegedUsernsClone: number | undefined;
  /** user.max_user_namespaces: 0 forbids user namespaces to everyone, root included. */
  maxUserNamespaces: number | undefined;
  /** kernel.apparmor_restrict_unprivileged_userns: 1 on Ubuntu 24.04 and later (23.10 opt-in). */
  apparmorRestrictUnprivilegedUserns: number | undefined;
}

/** The distribution as /etc/os-release names it: ID, ID_LIKE (split), VERSION_ID, PRETTY_NAME. */
export interface Distro {
  id: string;
  idLike: string[];
  versionId: string;
  prettyName: string;
}

/** Everything the diagnosis looks at. Nothing in it is derived: the diagnosis does the thinking. */
export interface HostFacts {
  /** As `process.platform` and `process.arch` name them. */
  platform: string;
  arch: string;
  /** undefined where there are no uids (Windows). */
  uid: number | undefined;
  /** From /etc/os-release; undefined when it is missing. */
  distro: Distro | undefined;
  /** Absolute path of `bwrap` on PATH, or undefined. */
  bwrapPath: string | undefined;
  /** When bwrap is not on PATH: where it was found all the same (/usr/bin/bwrap, say), so that the fix is PATH, not a package. */
  bwrapOffPath: string | undefined;
  /** `bwrap --version`, e.g. "0.8.0". */
  bwrapVersion: string | undefined;
  /** /usr/bin/sandbox-exec when it exists (seatbelt runs it by that absolute path). */
  sandboxExecPath: string | undefined;
  /** Absolute path of `prlimit` on PATH (util-linux), or undefined. */
  prlimitPath: string | undefined;
  sysctls: UsernsSysctls;
  /**
   * From the Seccomp line of /proc/self/status: whether the kernel has seccomp at all (the line
   * exists), and the mode bunker itself runs under (2: a filter, as containers and some systemd
   * units install). undefined off Linux.
   */
  seccomp: { supported: boolean; mode: number | undefined } | undefined;
  container: ContainerHint | undefined;
  /** One run of bwrap with the server's own flags; undefined when it was not attempted. */
  bwrapProbe: ProgramOutcome | undefined;
  /**
   * The same run inside bwrap's setup namespace (setup-namespace.ts), as the server makes its
   * execs; undefined when it was not attempted (the plain run failed). A namespace that could not
   * be made is a spawnError.
   */
  setupNamespaceProbe: ProgramOutcome | undefined;
  /**
   * The same run once more in a network namespace made for a session's commands to share
   * (shared-network.ts), where the command must find itself in it; undefined when it was not
   * attempted (the setup namespace did not work). Optional: facts read by an older doctor lack it.
   */
  sharedNetworkProbe?: ProgramOutcome | undefined;
  /** seatbelt.ts's probe; undefined when it was not attempted (not macOS). */
  seatbeltProbe: ProbeResult | undefined;
}

/** Reads the distribution from the text of /etc/os-release (shell-style assignments, quotes optional). */
export function parseOsRelease(text: string): Distro | undefined {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    values.set(match[1]!, match[2]!.replace(/^(["'])(.*)\1$/, "$2"));
  }
  const id = values.get("ID");
  if (id === undefined) return undefined;
  const versionId = values.get("VERSION_ID") ?? "";
  return {
    id,
    idLike: (values.get("ID_LIKE") ?? "").split(/\s+/).filter((word) => word !== ""),
    versionId,
    prettyName: values.get("PRETTY_NAME") ?? `${id} ${versionId}`.trim(),
  };
}

/** Reads the Seccomp line of /proc/self/status: its absence means a kernel built without seccomp. */
export function parseSeccompStatus(statusText: string): NonNullable<HostFacts["seccomp"]> {
  const match = /^Seccomp:\s*(\d+)\s*$/m.exec(statusText);
  return match ? { supported: true, mode: Number(match[1]) } : { supported: false, mode: undefined };
}

/** Takes the version out of `bwrap --version` ("bubblewrap 0.8.0"). */
export function parseBwrapVersion(output: string): string | undefined {
  return /(\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
}

/** The raw signs of a container, each undefined when it could not be read. */
export interface ContainerEvidence {
  /** Docker creates /.dockerenv in every container. */
  dockerenvExists: boolean;
  /** Podman (and Buildah) create /run/.containerenv. */
  containerenvExists: boolean;
  /** The `container` variable of pid 1's environment (systemd's convention: podman, lxc, systemd-nspawn, docker). */
  pid1ContainerVariable: string | undefined;
  /** /proc/1/cgroup: with cgroup v1 it names docker, kubepods, lxc or libpod. */
  pid1Cgroup: string | undefined;
}

/** Decides from the raw signs whether this looks like a container, naming the sign that said so. */
export function findContainerHint(evidence: ContainerEvidence): ContainerHint | undefined {
  const cgroup = evidence.pid1Cgroup ?? "";
  if (/kubepods/.test(cgroup)) return { kind: "kubernetes", evidence: "/proc/1/cgroup names kubepods" };
  if (evidence.containerenvExists) return { kind: "podman", evidence: "/run/.containerenv exists" };
  if (evidence.dockerenvExists) return { kind: "docker", evidence: "/.dockerenv exists" };
  const variable = evidence.pid1ContainerVariable;
  if (variable !== undefined && variable !== "") {
    const kind: ContainerKind =
      variable === "docker" || variable === "podman" || variable === "lxc" || variable === "systemd-nspawn" ? variable : "other";
    return { kind, evidence: `pid 1 has container=${variable}` };
  }
  for (const [word, kind] of [
    ["docker", "docker"],
    ["containerd", "docker"],
    ["libpod", "podman"],
    ["lxc", "lxc"],
  ] as const) {
    if (new RegExp(`\\b${word}\\b`).test(cgroup)) return { kind, evidence: `/proc/1/cgroup names ${word}` };
  }
  return undefined;
}
