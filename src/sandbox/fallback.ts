import { withControllingTerminal } from "./controlling-terminal.ts";
import { buildPrlimitArgs, buildReaperLimitArgs } from "./rlimits.ts";
import type { SandboxBackend, SandboxCommand, SandboxPolicy, ExecSpec } from "./types.ts";

/** What the workspace-only fallback does not enforce, as hello reports it. */
export const FALLBACK_NOT_ENFORCED = [
  "filesystem: commands can read and write anything the server's user can",
  "network: commands have the server's network",
  "processes: commands can see and signal the server's other processes",
];

/** The reaper writes the command's wait status to this fd (fixed in its machine code). */
const REAPER_WAIT_STATUS_FD = 4;

export interface FallbackBackendOptions {
  /** The installed reaper (Linux): it applies the rlimits and reports the true wait status. */
  reaperPath?: string;
  /** prlimit(1), for the limits where there is no reaper. */
  prlimitPath?: string;
}

/**
 * The fallback without OS isolation: a clean environment, cwd in the workspace, HOME and TMPDIR
 * inside it, and a process group of its own so that the tree can be killed as a whole.
 */
export function createFallbackBackend(options: FallbackBackendOptions = {}): SandboxBackend {
  return {
    name: "none",
    enforcesReadOnly: false,
    buildCommand(spec: ExecSpec, policy: SandboxPolicy): SandboxCommand {
      // The server refuses such an exec first (sandbox_unavailable); this holds whatever the caller.
      if (policy.readOnly) throw new Error("the none backend cannot make the workspace read-only");
      if (options.reaperPath) {
        // The reaper sets the limits on itself and forks the command: no prlimit exec (1.5 ms here),
        // and the command's true wait status on fd 4. It execs without a PATH search: look up here.
        const [program = "", ...args] = spec.argv;
        const resolved = program.includes("/") ? program : Bun.which(program, { PATH: spec.env["PATH"] ?? "", cwd: spec.cwd });
        if (!resolved) throw new Error(`${JSON.stringify(program)} was not found on the command's PATH`);
        return {
          argv: withControllingTerminal(
            [options.reaperPath, ...(spec.rlimits ? buildReaperLimitArgs(spec.rlimits) : []), resolved, ...args],
            spec.pty === true,
          ),
          env: { ...spec.env },
          cwd: spec.cwd,
          tree: "process-group",
          statusFds: { waitStatus: REAPER_WAIT_STATUS_FD },
          detached: spec.pty !== true,
        };
      }
      return {
        argv: withControllingTerminal(
          spec.rlimits && options.prlimitPath ? [options.prlimitPath, ...buildPrlimitArgs(spec.rlimits), "--", ...spec.argv] : [...spec.argv],
          spec.pty === true,
        ),
        env: { ...spec.env },
        cwd: spec.cwd,
        tree: "process-group",
        statusFds: {},
        // A PTY spawn makes the command a session leader already.
        detached: spec.pty !== true,
      };
    },
    tempDir: (policy) => `${policy.workspace}/.tmp`,
  };
}
