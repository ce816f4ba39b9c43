import { closeSync, existsSync } from "node:fs";
import type { ErrorCode, ExecMessage } from "../protocol/index.ts";
import { buildExecEnv } from "../exec/exec-env.ts";
import { runExec } from "../exec/run-exec.ts";
import { openProtectedPathsForExec } from "../sandbox/protected-paths.ts";
import { resolveExecRlimits } from "../sandbox/rlimits.ts";
import type { SandboxPolicy } from "../sandbox/types.ts";
import type { SharedNetwork } from "../sandbox/shared-network.ts";
import { resolveCwd } from "../workspace/confine.ts";
import { effectiveMaxOutputBytes, effectiveTimeoutMs } from "./exec-limits.ts";
import { narrowPolicy } from "./exec-policy.ts";
import { ExecRecord, type RequestFingerprint } from "./exec-record.ts";
import type { ServerOptions } from "./options.ts";

/** What launching an exec needs of its session. */
export interface LaunchContext {
  readonly workspacePath: string;
  readonly options: ServerOptions;
  /** The session's policy; a request may only narrow it (`network: false`). */
  readonly policy: SandboxPolicy;
  /** The session's network namespace for a command starting now under `policy` (SessionNetwork.forCommand). */
  network(policy: SandboxPolicy): SharedNetwork | undefined;
}

/** Linux's MAX_ARG_STRLEN: the most one argument may hold, its terminating NUL included. */
const MAX_ARGUMENT_BYTES = 32 * 4096;

/**
 * An argument execve would refuse (E2BIG), said before the spawn: a heredoc in `cmd` past 128 KiB
 * failed with Bun's "posix_spawn '<runtime dir>/enter-x64'" (found by a review).
 */
function argumentTooLong(message: ExecMessage, argv: readonly string[]): string | undefined {
  const index = argv.findIndex((argument) => Buffer.byteLength(argument) + 1 > MAX_ARGUMENT_BYTES);
  if (index < 0) return undefined;
  const bytes = Buffer.byteLength(argv[index]!);
  const limit = `the kernel's limit of ${MAX_ARGUMENT_BYTES} bytes for one argument (its NUL included)`;
  return message.cmd !== undefined
    ? `cmd: ${bytes} bytes is past ${limit}; write a long script to a file (file.write) and run that, or send it to a persistent shell (shell), which takes up to 8 MiB`
    : `argv[${index}]: ${bytes} bytes is past ${limit}`;
}

/** Bun names the program it spawned ("posix_spawn '/tmp/bunker-runtime-.../enter-x64'"): the server's, not the client's. */
function withoutSpawnedPath(text: string): string {
  return text.replace(/,? posix_spawn '[^']*'/, "");
}

export type LaunchResult = { ok: true; record: ExecRecord; cwdPath: string } | { ok: false; code: ErrorCode; problem: string };

/**
 * Spawns an exec that passed the session's own checks (its id; its slots, network and readOnly in
 * exec-admission.ts): its working directory, resource limits and protected paths are resolved
 * here, in the documented order, and a refusal comes back as the error to send. On success
 * `record.running` is the exec.
 */
export function launchExec(context: LaunchContext, message: ExecMessage, fingerprint: RequestFingerprint): LaunchResult {
  const { options, workspacePath } = context;
  const cwd = resolveCwd(workspacePath, message.cwd);
  if (!cwd.ok) return { ok: false, code: cwd.code, problem: cwd.problem };
  const rlimits = resolveExecRlimits(options.rlimits, message.rlimits);
  if (!rlimits.ok) return { ok: false, code: "forbidden_by_policy", problem: rlimits.problem };

  const backend = options.sandbox.backend;
  const argv = message.cmd !== undefined ? ["/bin/sh", "-c", message.cmd] : message.argv!;
  const tooLong = argumentTooLong(message, argv);
  if (tooLong) return { ok: false, code: "spawn_failed", problem: tooLong };
  const policy = narrowPolicy(context.policy, message);
  const opened = openProtectedPathsForExec(backend.name, workspacePath, options.protectPaths);
  if (!opened.ok) return { ok: false, code: "forbidden_by_policy", problem: opened.problem };
  const protectedPaths = opened.opened;
  const { limits } = options;
  const network = context.network(policy);
  const record = new ExecRecord(message.id, message, fingerprint, limits.outputLogBytes);
  try {
    record.running = runExec(
      {
        id: message.id,
        argv,
        cwd: cwd.path,
        env: buildExecEnv({ home: workspacePath, tempDir: backend.tempDir(policy), requested: message.env, terminal: message.pty !== undefined }),
        stdin: message.stdin === true,
        timeoutMs: effectiveTimeoutMs(message.timeoutMs, limits),
        maxOutputBytes: effectiveMaxOutputBytes(message.maxOutputBytes, limits),
        ...(message.pty && { pty: message.pty }),
        rlimits: rlimits.rlimits,
        ...(options.runAs && { runAs: options.runAs }),
        protectedPaths,
        ...(network && { network }),
        onStdinTaken: (taken) => record.stdinTaken(taken),
      },
      backend,
      policy,
      record.logs,
    );
  } catch (error) {
    // A spawn into a directory that is gone fails as if the sandbox's program were missing
    // ("ENOENT ... posix_spawn '/usr/bin/bwrap'"): say what is really missing.
    const why = existsSync(cwd.path) ? withoutSpawnedPath((error as Error).message) : `its working directory ${cwd.path} no longer exists (was the workspace removed?)`;
    return { ok: false, code: "spawn_failed", problem: `could not start ${JSON.stringify(argv[0])}: ${why}` };
  } finally {
    for (const protectedPath of protectedPaths) closeSync(protectedPath.fd);
  }
  return { ok: true, record, cwdPath: cwd.path };
}
