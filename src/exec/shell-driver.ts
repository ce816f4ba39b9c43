import { KILL_GRACE_MS, type ExecLogs, type ExitFacts, type RunningExec } from "./run-exec.ts";
import { MAX_PENDING_STDIN_BYTES } from "../protocol/limits.ts";
import { ShellCommandOutput } from "./shell-command-output.ts";
import {
  createShellExec,
  describeCommandEnd,
  describeShellEnd,
  describeUnrun,
  type ShellExec,
  type ShellExitFacts,
  type ShellJob,
  type ShellRunLimits,
  type ShellStopReason,
} from "./shell-exec.ts";
import { interruptWithFollowUp } from "./shell-interrupt.ts";
import { createShellLogReader } from "./shell-log-reader.ts";
import { buildShellCommandRecord, buildShellReadyLine, createShellMarker, isShellArgv, SHELL_END_SIGNAL } from "./shell-script.ts";
import { signalQuietly } from "./process-tree.ts";

export type { ShellExec, ShellExitFacts, ShellRunLimits } from "./shell-exec.ts";

/** A long-lived bash whose cwd, variables and background jobs persist between commands. */
export interface ShellDriver {
  /** False once the shell has ended or was closed; `run` then throws. */
  readonly alive: boolean;
  /** The shell's working directory after the last command (the starting one before any). */
  readonly cwd: string;
  /**
   * Runs `cmd` in the shell after the commands queued before it; its output goes to `into`, whose
   * logs are finished before `finished` settles. Throws when the shell has ended, when `cmd` holds
   * NUL, or when it is longer than MAX_SHELL_RECORD_BYTES once encoded.
   */
  run(id: string, cmd: string, into: ExecLogs, limits?: ShellRunLimits): ShellExec;
  /** Kills the shell, its background jobs and its command at once; queued commands never run. */
  close(): void;
  /** Settles when the shell has ended. */
  readonly ended: Promise<ExitFacts>;
}

/** Room in the shell's stdin queue that a command's record may not use (the start script, a record still in flight). */
const STDIN_HEADROOM_BYTES = 64 * 1024;

/**
 * Commands a shell holds waiting behind the running one. A command for a live shell takes no exec
 * slot of its own (its shell holds one), so this is what bounds them: as many as a session may run.
 */
export const MAX_QUEUED_SHELL_COMMANDS = 16;

/** The longest record of a command (its text, encoded, and a few bytes more) that a shell takes; longer commands are refused by `run`. */
export const MAX_SHELL_RECORD_BYTES = MAX_PENDING_STDIN_BYTES - STDIN_HEADROOM_BYTES;

/** What createShellDriver drives. */
export interface ShellDriverOptions {
  /** The bash, from runExec: argv SHELL_ARGV, `stdin: true`, `timeoutMs: 0`, `maxOutputBytes: Infinity`. */
  running: RunningExec;
  /** The logs runExec writes the bash's output to; the driver sets their onChange and alone reads them. */
  logs: ExecLogs;
  /** The directory bash starts in, as the sandbox names it. */
  cwd: string;
  /** Told, in a sentence, when the shell fails in a way no exit code says (for the server's log). */
  onError?: (message: string) => void;
}

/**
 * Drives a bash started by the caller with runExec (argv SHELL_ARGV, `stdin: true`, no timeout, no
 * output limit) whose output goes to `shell.logs`, which the driver alone reads. Commands run one at
 * a time, in the order of `run`. Between commands nothing is read: output of background jobs waits
 * in the shell's logs (and, once they are full, the jobs block in write) and becomes the start of
 * the next command's output. What is left when the shell ends with no command running is dropped.
 */
export function createShellDriver(shell: ShellDriverOptions): ShellDriver {
  const { running, logs } = shell;
  const queue: ShellJob[] = [];
  let current: ShellJob | undefined;
  let cwd = shell.cwd;
  let closed = false;
  let shellFacts: ExitFacts | undefined;
  /** The exit of the command during which the shell ended, if one was running then. */
  let endOfShell: ShellExitFacts | undefined;
  let scheduled = false;
  /** Whether a SIGINT went to the shell during the last command: it may have come after that command ended. */
  let interruptSent = false;
  /** Until the start script has set the trap, a SIGINT would end bash: it waits in `interruptHeld`. */
  let interruptHeld = false;
  const readyMarker = createShellMarker();
  const reader = createShellLogReader(logs, readyMarker, () => {
    if (interruptHeld) deliverInterrupt();
  });

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      pump();
    });
  };
  logs.stdout.onChange = schedule;
  logs.stderr.onChange = schedule;

  const ended = running.finished
    .catch((error: unknown): ExitFacts => {
      shell.onError?.(`the shell's exec failed inside the server: ${(error as Error).message}`);
      return { code: null, signal: "SIGKILL", reason: "killed", durationMs: 0, bytes: { stdout: logs.stdout.end, stderr: logs.stderr.end } };
    })
    .then((facts) => {
      shellFacts = facts;
      schedule();
      return facts;
    });
  running.writeStdin(new TextEncoder().encode(buildShellReadyLine(readyMarker)));

  const dead = () => closed || shellFacts !== undefined || !running.stdinOpen;

  /** Moves what the current command may take from the shell's logs into its own. */
  function pump(): void {
    if (!reader.readUntilReady()) return;
    const job = current;
    if (!job) {
      if (shellFacts) settleQueued();
      return;
    }
    const output = job.output!;
    try {
      reader.pumpInto(output, schedule);
    } catch (error) {
      // Only a shell that a command has tampered with says something else after a marker.
      shell.onError?.(`the shell was killed during ${JSON.stringify(job.id)}: ${(error as Error).message}`);
      closeShell();
      output.end("stdout");
      output.end("stderr");
    }
    if (output.complete) {
      // The same directory as before keeps the same string: every remembered command's exit holds one.
      if (output.trailer!.cwd !== cwd) cwd = output.trailer!.cwd;
      return settle(job, describeCommandEnd(job, output.trailer!.status, cwd));
    }
    if (output.shellEnded && shellFacts) {
      endOfShell = describeShellEnd(job, shellFacts, cwd);
      return settle(job, endOfShell);
    }
  }

  function settle(job: ShellJob, facts: ShellExitFacts): void {
    for (const timer of job.timers) clearTimeout(timer);
    job.state = "done";
    facts.bytes = job.output ? job.output.finish() : finishUnrun(job);
    if (current === job) current = undefined;
    job.resolve(facts);
    startNext();
  }

  function finishUnrun(job: ShellJob): { stdout: number; stderr: number } {
    job.into.stdout.finish();
    job.into.stderr.finish();
    return { stdout: job.into.stdout.end, stderr: job.into.stderr.end };
  }

  /**
   * Once bash is gone, the commands waiting behind the one it ran end unrun, each with that one's
   * exit (`exit 7`: code 7; a client's SIGTERM: SIGTERM), or the shell's own when none was running:
   * they all said SIGKILL, a signal nobody sent, reason "killed" after an `exit` (found by a review).
   */
  function settleQueued(): void {
    const end = endOfShell ?? shellFacts!;
    for (const job of queue.splice(0)) settle(job, describeUnrun(end, cwd));
    reader.close();
  }

  function startNext(): void {
    if (current) return;
    if (dead()) {
      // Once bash is gone its facts arrive; every queued command then ends unrun.
      if (shellFacts) settleQueued();
      return;
    }
    const job = queue.shift();
    if (!job) return;
    const marker = createShellMarker();
    job.state = "running";
    job.startedAt = performance.now();
    job.output = new ShellCommandOutput(marker, job.into, job.limits.maxOutputBytes, () => stop(job, "output_limit"));
    current = job;
    const record = buildShellCommandRecord(job.cmd, marker, interruptSent);
    interruptSent = false;
    if (job.limits.timeoutMs > 0) job.timers.push(setTimeout(() => stop(job, "timeout"), job.limits.timeoutMs));
    if (!running.writeStdin(new TextEncoder().encode(record))) {
      // run() checked the length; a shell whose stdin is this full no longer reads it.
      stop(job, "killed", true);
    }
    schedule();
  }

  /**
   * Ends a command on bunker's account: SIGINT, then, if it outlives KILL_GRACE_MS, the whole shell.
   * `immediately` kills the shell at once. The first reason wins.
   */
  function stop(job: ShellJob, reason: ShellStopReason, immediately = false): void {
    if (job.state !== "running") return;
    const first = job.reason === undefined;
    job.reason ??= reason;
    if (immediately) return closeShell();
    if (!first) return;
    interrupt();
    // A paused shell would take its SIGINT only once resumed, and be killed at the grace's end with
    // every command waiting behind it (found by a review): it is resumed, as any exec ended by
    // bunker is, so that the command is interrupted and the shell goes on.
    if (running.paused) running.signal("SIGCONT");
    job.timers.push(
      setTimeout(() => {
        if (job.state === "running") closeShell();
      }, KILL_GRACE_MS),
    );
  }

  function interrupt(): void {
    interruptSent = true;
    if (reader.ready) deliverInterrupt();
    else interruptHeld = true;
  }

  function deliverInterrupt(): void {
    interruptHeld = false;
    const job = current;
    interruptWithFollowUp({
      rootPid: running.pid,
      isShell: isShellArgv,
      send: () => running.signal("SIGINT"),
      endCommand: (shellPid) => signalQuietly(shellPid, SHELL_END_SIGNAL),
      isOver: () => job === undefined || job.state !== "running",
    });
  }

  function dropQueued(job: ShellJob, signal: string): void {
    queue.splice(queue.indexOf(job), 1);
    settle(job, describeUnrun(signal, cwd));
  }

  function closeShell(): void {
    if (closed) return;
    closed = true;
    if (current) current.reason ??= "killed";
    running.terminate("killed", true);
  }

  return {
    get alive() {
      return !dead();
    },
    get cwd() {
      return cwd;
    },
    ended,
    run(id, cmd, into, limits = {}) {
      if (dead()) throw new Error(`the shell has ended (${closed ? "closed" : "its bash exited"}); start a new one`);
      if (cmd.includes("\0")) throw new TypeError(`cmd: ${JSON.stringify(cmd.slice(0, 40))} contains NUL, which bash cannot take`);
      const recordBytes = Buffer.byteLength(buildShellCommandRecord(cmd, createShellMarker(), true));
      if (recordBytes > MAX_SHELL_RECORD_BYTES) {
        throw new RangeError(`cmd: ${recordBytes} bytes once encoded for the shell; a persistent shell takes at most ${MAX_SHELL_RECORD_BYTES}`);
      }
      if (queue.length >= MAX_QUEUED_SHELL_COMMANDS) {
        throw new RangeError(`the shell already holds ${MAX_QUEUED_SHELL_COMMANDS} commands waiting for the one it runs; wait for their exits`);
      }
      const settled = Promise.withResolvers<ShellExitFacts>();
      const job: ShellJob = {
        id,
        cmd,
        into,
        limits: { timeoutMs: limits.timeoutMs ?? 0, maxOutputBytes: limits.maxOutputBytes ?? Infinity },
        state: "queued",
        output: undefined,
        startedAt: performance.now(),
        reason: undefined,
        clientSignalled: false,
        timers: [],
        resolve: settled.resolve,
      };
      queue.push(job);
      startNext();
      return createShellExec(job, running.pid, settled.promise, {
        dropQueued,
        stop,
        interrupt,
        signalShell: (name) => running.signal(name),
        paused: () => running.paused,
      });
    },
    close: closeShell,
  };
}
