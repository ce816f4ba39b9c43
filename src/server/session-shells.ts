import { closeSync } from "node:fs";
import type { SharedNetwork } from "../sandbox/shared-network.ts";
import type { ErrorCode, ExecMessage } from "../protocol/index.ts";
import { buildExecEnv } from "../exec/exec-env.ts";
import { OutputLog } from "../exec/output-log.ts";
import { runExec, type ExecLogs, type ExitFacts, type RunningExec } from "../exec/run-exec.ts";
import { createShellDriver, type ShellDriver, type ShellExec } from "../exec/shell-driver.ts";
import { SHELL_ARGV } from "../exec/shell-script.ts";
import { openProtectedPathsForExec } from "../sandbox/protected-paths.ts";
import { resolveExecRlimits } from "../sandbox/rlimits.ts";
import type { SandboxPolicy } from "../sandbox/types.ts";
import { resolveCwd } from "../workspace/confine.ts";
import { ExecRecord, type RequestFingerprint } from "./exec-record.ts";
import { narrowPolicy } from "./exec-policy.ts";
import { effectiveMaxOutputBytes, effectiveTimeoutMs } from "./exec-limits.ts";
import type { ServerOptions } from "./options.ts";
import type { SessionConnection } from "./session.ts";

/** Persistent shells one session may hold at once (each is a bash, with its background jobs). */
const MAX_SHELLS_PER_SESSION = 8;

/** A persistent shell of a session, and the narrowings of the policy it was started with. */
interface SessionShell {
  driver: ShellDriver;
  allowNetwork: boolean;
  readOnly: boolean;
}

/** An exec as the session follows it: a persistent shell's command also reports the shell's cwd. */
export type TrackedExec = Omit<RunningExec, "finished"> & { readonly finished: Promise<ExitFacts & { cwd?: string }> };

/** What the shells need of their session. */
export interface ShellHost {
  readonly options: ServerOptions;
  readonly workspacePath: string;
  readonly policy: SandboxPolicy;
  sendError(connection: SessionConnection, code: ErrorCode, message: string, id?: string): void;
  /** Makes a started exec known to the session (started, output, exit). */
  track(connection: SessionConnection, record: ExecRecord, running: TrackedExec, cwdPath: string): void;
  /** Takes a slot against the exec limits for a live shell; the function returned gives it back. */
  holdSlot(): () => void;
  /** The session's network namespace for a sandbox starting now under `policy` (SessionNetwork.forCommand). */
  network(policy: SandboxPolicy): SharedNetwork | undefined;
}

/**
 * The persistent shells of one session, by name (see docs/PROTOCOL.md, Persistent shells). A
 * session makes this on its first shell exec; one that has ended is replaced by the next exec
 * naming it.
 */
export class SessionShells {
  readonly #shells = new Map<string, SessionShell>();
  /**
   * Names whose shell was started read-only: the shell that replaces one that ended (`exit`, `set -e`,
   * a SIGINT that took the shell) is read-only too unless its exec says `readOnly: false`. Commands
   * need not repeat it, so a restart must not quietly make the next one writable (found by a review).
   */
  readonly #readOnlyNames = new Set<string>();

  constructor(private readonly host: ShellHost) {}

  /** Whether shell `name` is running, so that a command for it needs no slot of its own. */
  isLive(name: string): boolean {
    return this.#shells.get(name)?.driver.alive === true;
  }

  /**
   * Runs `cmd` in the session's shell `name`, started by this exec if there is none (or it ended).
   * cwd, env, rlimits and network shape a shell when it starts; later they are refused, since the
   * shell keeps its own directory and variables (a command uses cd and export).
   */
  exec(connection: SessionConnection, message: ExecMessage, name: string, cmd: string, fingerprint: RequestFingerprint): void {
    const { id } = message;
    const quoted = JSON.stringify(name);
    if (message.stdin === true) {
      return this.host.sendError(connection, "bad_message", "stdin: a command in a persistent shell reads /dev/null; send it without shell to feed it stdin", id);
    }
    let shell = this.#shells.get(name);
    if (shell && !shell.driver.alive) {
      this.#shells.delete(name);
      shell = undefined;
    }
    if (shell) {
      const setup = (["cwd", "env", "rlimits"] as const).filter((field) => message[field] !== undefined);
      if (setup.length > 0) {
        return this.host.sendError(connection, "bad_message", `${setup.join(", ")}: shell ${quoted} is already running; these apply when a shell starts (use cd and export in the command)`, id);
      }
      if (message.network === false && shell.allowNetwork) {
        return this.host.sendError(connection, "bad_message", `network: shell ${quoted} was started with the network; start another shell with network: false`, id);
      }
      // Either way a mismatch is refused: a command sent as read-only must not write, and one sent
      // as writable would fail on a read-only shell's workspace with no word of why.
      if (message.readOnly !== undefined && message.readOnly !== shell.readOnly) {
        const started = shell.readOnly ? "read-only" : "with a writable workspace";
        return this.host.sendError(connection, "bad_message", `readOnly: shell ${quoted} was started ${started}; start another shell with readOnly: ${message.readOnly}`, id);
      }
    } else {
      shell = this.#start(connection, message, name);
      if (!shell) return;
    }
    const limits = this.host.options.limits;
    const record = new ExecRecord(id, message, fingerprint, limits.outputLogBytes);
    const cwdBefore = shell.driver.cwd;
    let running: ShellExec;
    try {
      running = shell.driver.run(id, cmd, record.logs, {
        timeoutMs: effectiveTimeoutMs(message.timeoutMs, limits),
        maxOutputBytes: effectiveMaxOutputBytes(message.maxOutputBytes, limits),
      });
    } catch (error) {
      return this.host.sendError(connection, "limit_exceeded", (error as Error).message, id);
    }
    record.running = running;
    this.host.track(connection, record, running, cwdBefore);
  }

  /** Starts the bash of shell `name` in the sandbox; on failure the error is sent and nothing is kept. */
  #start(connection: SessionConnection, message: ExecMessage, name: string): SessionShell | undefined {
    const { id } = message;
    if (this.#shells.size >= MAX_SHELLS_PER_SESSION) {
      this.host.sendError(connection, "limit_exceeded", `this session already has ${MAX_SHELLS_PER_SESSION} shells, the most it may`, id);
      return undefined;
    }
    const cwd = resolveCwd(this.host.workspacePath, message.cwd);
    if (!cwd.ok) {
      this.host.sendError(connection, cwd.code, cwd.problem, id);
      return undefined;
    }
    const rlimits = resolveExecRlimits(this.host.options.rlimits, message.rlimits);
    if (!rlimits.ok) {
      this.host.sendError(connection, "forbidden_by_policy", rlimits.problem, id);
      return undefined;
    }
    const backend = this.host.options.sandbox.backend;
    const readOnly = message.readOnly ?? this.#readOnlyNames.has(name);
    if (readOnly) this.#readOnlyNames.add(name);
    else this.#readOnlyNames.delete(name);
    const policy = narrowPolicy(this.host.policy, { network: message.network, readOnly });
    // The shell's own output: only its driver reads it, and bash waits when it is full.
    const logBytes = this.host.options.limits.outputLogBytes;
    const logs: ExecLogs = { stdout: new OutputLog(logBytes), stderr: new OutputLog(logBytes) };
    const opened = openProtectedPathsForExec(backend.name, this.host.workspacePath, this.host.options.protectPaths);
    if (!opened.ok) {
      this.host.sendError(connection, "forbidden_by_policy", opened.problem, id);
      return undefined;
    }
    const protectedPaths = opened.opened;
    const network = this.host.network(policy);
    let running: RunningExec;
    try {
      running = runExec(
        {
          id: `shell:${name}`,
          argv: SHELL_ARGV,
          cwd: cwd.path,
          env: buildExecEnv({ home: this.host.workspacePath, tempDir: backend.tempDir(policy), requested: message.env }),
          stdin: true,
          // The server's limits apply to each command (see exec), not to the shell's life.
          timeoutMs: 0,
          maxOutputBytes: Infinity,
          rlimits: rlimits.rlimits,
          ...(this.host.options.runAs && { runAs: this.host.options.runAs }),
          protectedPaths,
          ...(network && { network }),
        },
        backend,
        policy,
        logs,
      );
    } catch (error) {
      this.host.sendError(connection, "spawn_failed", `could not start the shell ${JSON.stringify(name)}: ${(error as Error).message}`, id);
      return undefined;
    } finally {
      for (const protectedPath of protectedPaths) closeSync(protectedPath.fd);
    }
    const shell: SessionShell = { driver: createShellDriver({ running, logs, cwd: cwd.path }), allowNetwork: policy.allowNetwork, readOnly };
    this.#shells.set(name, shell);
    // A live shell is a sandbox of its own, with background jobs: it counts against --max-execs.
    const releaseSlot = this.host.holdSlot();
    void shell.driver.ended.then(() => {
      releaseSlot();
      if (this.#shells.get(name) === shell) this.#shells.delete(name);
    });
    return shell;
  }

  /** Ends every shell (the session is ending); resolves when they are gone. */
  async closeAll(): Promise<void> {
    const shells = [...this.#shells.values()];
    for (const shell of shells) shell.driver.close();
    await Promise.allSettled(shells.map((shell) => shell.driver.ended));
    this.#shells.clear();
  }
}
