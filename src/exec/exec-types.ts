import type { ExitReason, SignalName, TerminalSize } from "../protocol/index.ts";
import type { OpenedProtectedPath } from "../sandbox/protected-paths.ts";
import type { Rlimits } from "../sandbox/rlimits.ts";
import type { RunAs } from "../sandbox/run-as.ts";
import type { SharedNetwork } from "../sandbox/shared-network.ts";
import type { OutputLog } from "./output-log.ts";
import type { StdinTaken } from "./stdin-writer.ts";

/** A validated request to run one command. */
export interface ExecRequest {
  id: string;
  argv: readonly string[];
  /** Absolute, inside the workspace. */
  cwd: string;
  env: Record<string, string>;
  stdin: boolean;
  /** 0: no limit. */
  timeoutMs: number;
  /** Infinity: no limit. */
  maxOutputBytes: number;
  /** Run on a pseudo-terminal of this size; its output goes to the stdout log. */
  pty?: TerminalSize;
  /** Resource limits (applied by the backend). */
  rlimits?: Rlimits;
  /** Host uid and gid to spawn the sandbox as (`--run-as`); undefined: the server's own. */
  runAs?: RunAs;
  /** Protected paths the caller opened; it closes them after runExec returns. */
  protectedPaths?: readonly OpenedProtectedPath[];
  /** The session's network namespace, where the backend has one (ExecSpec.network). */
  network?: SharedNetwork;
  /** How many bytes of stdin the command has taken in all, as it takes them (for `stdin.ack`). */
  onStdinTaken?: StdinTaken;
}

/** Where an exec's output goes: one log per stream. */
export interface ExecLogs {
  stdout: OutputLog;
  stderr: OutputLog;
}

/** The facts of an exec's end, as the `exit` message carries them. */
export interface ExitFacts {
  code: number | null;
  signal: string | null;
  reason: ExitReason;
  durationMs: number;
  /** Set when the command itself could not be executed inside the sandbox. */
  spawnError?: string;
  bytes: { stdout: number; stderr: number };
}

/** A command that is running, and the ways to reach it. */
export interface RunningExec {
  readonly id: string;
  readonly pid: number;
  /** Whether stdin still takes data. */
  readonly stdinOpen: boolean;
  /** Whether a client's SIGSTOP holds the tree, and no SIGCONT has come since (ExecInfo `paused`). */
  readonly paused: boolean;
  /** Queues stdin bytes; false when too much already waits for a command that does not read. */
  writeStdin(bytes: Uint8Array): boolean;
  endStdin(): void;
  /** A client's signal to the whole tree. */
  signal(name: SignalName): void;
  /** Changes a PTY exec's window size (the program gets SIGWINCH); false when the exec has no PTY. */
  resize(size: TerminalSize): boolean;
  /** Ends the tree on bunker's own account: SIGTERM, then SIGKILL after a grace period (or at once). */
  terminate(reason: "timeout" | "killed" | "output_limit", immediately: boolean): void;
  /**
   * Settles once every output byte has been handed to the sink and the command's process tree is
   * gone (under bwrap, bwrap itself may still be tearing the namespaces down and exiting).
   */
  readonly finished: Promise<ExitFacts>;
}
