import type { SandboxBackendName } from "../protocol/index.ts";
import type { Rlimits } from "./rlimits.ts";
import type { OpenedProtectedPath } from "./protected-paths.ts";
import type { SharedNetwork } from "./shared-network.ts";

/** What a session's commands may touch. Every backend enforces as much of it as it can. */
export interface SandboxPolicy {
  /** Absolute host path of the session workspace: the only writable place. */
  workspace: string;
  /** Whether commands may use the network (off by default). */
  allowNetwork: boolean;
  /**
   * One exec's narrowing (`readOnly` in the exec message): the workspace and the --allow-write paths
   * are read-only too, so the command can write nothing on the host but its private temp dir.
   */
  readOnly?: boolean;
  /** Size cap of the private /tmp, where the backend has one. */
  tmpSizeBytes?: number;
  /** Extra host paths (real, absolute) commands may read, and may write. */
  allowRead?: readonly string[];
  allowWrite?: readonly string[];
  /**
   * Host paths (real, absolute) commands must not read although a directory they see holds them
   * (--deny-read, the server's config file and TLS key): unreadable where they are visible.
   */
  denyRead?: readonly DeniedPath[];
  /**
   * Paths relative to the workspace that commands must not change (ServerOptions.protectPaths).
   * Seatbelt denies writes to them by path; bwrap gets them as ExecSpec.protectedPaths instead.
   */
  protectPaths?: readonly string[];
}

/** A host path hidden from commands, and whether it is a directory (hidden differently). */
export interface DeniedPath {
  path: string;
  directory: boolean;
}

/** One command to run, already validated: argv to exec, cwd and environment as the command sees them. */
export interface ExecSpec {
  argv: readonly string[];
  /** Absolute path inside the workspace. */
  cwd: string;
  /** The complete environment of the command: nothing else is inherited. */
  env: Readonly<Record<string, string>>;
  /** Whether the command runs on a pseudo-terminal. */
  pty?: boolean;
  /** Resource limits to apply to the command, where the backend can. */
  rlimits?: Rlimits;
  /** Protected paths opened by the server (protected-paths.ts), to be seen read-only. */
  protectedPaths?: readonly OpenedProtectedPath[];
  /** The session's network namespace (SandboxBackend.openSharedNetwork), joined unless the network is allowed. */
  network?: SharedNetwork;
}

/** How the whole process tree of one exec is found and killed. */
export type ProcessTreeKind =
  /** bwrap: every process lives in the exec's own PID namespace, which dies with its pid 1. */
  | "pid-namespace"
  /** seatbelt and none: the exec leads its own process group (a `setsid` daemon can leave it). */
  | "process-group";

/** What the server hands to Bun.spawn for one exec. */
export interface SandboxCommand {
  /** The program and arguments to spawn on the host. */
  argv: string[];
  /** The environment of the spawned process (a wrapper passes it on to the command). */
  env: Record<string, string>;
  /** Host working directory for the spawn. */
  cwd: string;
  /** How to find and kill the tree. */
  tree: ProcessTreeKind;
  /**
   * Extra pipes beyond stdin, stdout and stderr, as child fd numbers (3, 4, ...) in order.
   * `jsonStatus`: bwrap's --json-status-fd (child pid and namespace ids).
   * `waitStatus`: the reaper's report of the command's true wait status (see reaper.ts).
   */
  statusFds: { jsonStatus?: number; waitStatus?: number };
  /**
   * Child fds that carry the command's own stdout and stderr, when they are not the spawned
   * process's 1 and 2 (bwrap without a terminal: the reaper makes them the command's 1 and 2).
   * They end when the command and everything it started are gone, before bwrap's own exit; the
   * spawned process's 1 and 2 then carry only its own messages (bwrap's complaints).
   */
  outputFds?: { stdout: number; stderr: number };
  /**
   * Files to open read-only for each spawn and pass as these child fds (after the status fds). They
   * must not change while the server runs: the server opens them one exec ahead (spare-fds.ts).
   */
  inputFiles?: { fd: number; path: string }[];
  /** Bytes to pass as these child fds, each in a file of its own with no name, read from its start. */
  inputData?: { fd: number; bytes: Uint8Array }[];
  /** Already-open host fds to pass as these child fds (the caller closes them after the spawn). */
  passFds?: { fd: number; hostFd: number }[];
  /** Whether spawning needs a new session and process group (setsid) on the host side. */
  detached: boolean;
}

/** A sandbox backend: a pure mapping from policy and command to what gets spawned. */
export interface SandboxBackend {
  readonly name: SandboxBackendName;
  /** Whether it can hold a command to SandboxPolicy.readOnly (none cannot: the server refuses such an exec). */
  readonly enforcesReadOnly: boolean;
  /** Builds the spawn for one command. Pure: touches nothing on the system. */
  buildCommand(spec: ExecSpec, policy: SandboxPolicy): SandboxCommand;
  /**
   * Makes a network namespace for one session's commands to share (ExecSpec.network), on the spot;
   * throws when it cannot. Absent where each command gets its own, or none (bwrap without its setup
   * namespace, seatbelt, none).
   */
  openSharedNetwork?(): SharedNetwork;
  /** The TMPDIR commands see. A path inside the workspace must be created before use. */
  tempDir(policy: SandboxPolicy): string;
}

/** The outcome of probing for a backend at startup. */
export type ProbeResult = { ok: true } | { ok: false; reason: string };
