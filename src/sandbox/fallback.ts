import { withControllingTerminal } from "./controlling-terminal.ts";
import { buildPrlimitArgs } from "./rlimits.ts";
import type { SandboxBackend, SandboxCommand, SandboxPolicy, ExecSpec } from "./types.ts";

/** What the workspace-only fallback does not enforce, as hello reports it. */
export const FALLBACK_NOT_ENFORCED = [
  "filesystem: commands can read and write anything the server's user can",
  "network: commands have the server's network",
  "processes: commands can see and signal the server's other processes",
];

/**
 * The fallback without OS isolation: a clean environment, cwd in the workspace, HOME and TMPDIR
 * inside it, and a process group of its own so that the tree can be killed as a whole.
 */
export function createFallbackBackend(options: { prlimitPath?: string } = {}): SandboxBackend {
  return {
    name: "none",
    buildCommand(spec: ExecSpec, policy: SandboxPolicy): SandboxCommand {
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
