import { isPauseSignal, type ExitReason, type SignalName } from "../protocol/index.ts";
import { describeExitCode } from "./exit-facts.ts";
import type { ExecLogs, ExitFacts, RunningExec } from "./run-exec.ts";
import type { ShellCommandOutput } from "./shell-command-output.ts";

/** How one command of a persistent shell ended: the facts of any exec, plus the shell's directory. */
export interface ShellExitFacts extends ExitFacts {
  /** The shell's working directory after the command, as the sandbox names it (the last one known when the shell ended). */
  cwd: string;
  /** False when the command never ran: interrupted while queued, or the shell had ended before its turn. */
  ran: boolean;
  /** The shell ended during this command (`exit`, a signal, a kill): the driver is dead from now on. */
  shellEnded: boolean;
}

/** One command in a persistent shell. It is a RunningExec, so that a session handles it like any exec. */
export interface ShellExec extends RunningExec {
  readonly finished: Promise<ShellExitFacts>;
}

/** Limits of one command; the defaults are none. */
export interface ShellRunLimits {
  /** From the moment the command starts in the shell; 0: no limit. */
  timeoutMs?: number;
  /** Cap on the command's stdout and stderr together; Infinity: no limit. */
  maxOutputBytes?: number;
}

/** Why bunker ends a command: the exit reasons that are bunker's decision. */
export type ShellStopReason = "timeout" | "killed" | "output_limit";

/** The driver's record of one command. */
export interface ShellJob {
  readonly id: string;
  readonly cmd: string;
  readonly into: ExecLogs;
  readonly limits: Required<ShellRunLimits>;
  state: "queued" | "running" | "done";
  output: ShellCommandOutput | undefined;
  startedAt: number;
  /** Set when bunker decided to end the command; the first reason wins. */
  reason: ShellStopReason | undefined;
  clientSignalled: boolean;
  timers: ReturnType<typeof setTimeout>[];
  resolve(facts: ShellExitFacts): void;
}

/** What a ShellExec asks of its driver. */
export interface ShellJobControls {
  /** Ends a queued command without running it. */
  dropQueued(job: ShellJob, signal: string): void;
  /** Ends a running command on bunker's account (see createShellDriver). */
  stop(job: ShellJob, reason: ShellStopReason, immediately: boolean): void;
  /** SIGINT to the running command; the shell and its background jobs ignore it. */
  interrupt(): void;
  /** A signal to the whole shell: bash, its command and its background jobs. */
  signalShell(name: SignalName): void;
  /** Whether a client's SIGSTOP holds the shell. */
  paused(): boolean;
}

/**
 * The RunningExec face of one command. It has no stdin (/dev/null) and no terminal. `signal`:
 * SIGINT interrupts the command and the shell lives on; any other signal goes to the whole shell,
 * as `signal` does for any exec's tree, and usually ends it. A queued command that gets a signal, or
 * is terminated, is dropped without running.
 */
export function createShellExec(job: ShellJob, pid: number, finished: Promise<ShellExitFacts>, controls: ShellJobControls): ShellExec {
  return {
    id: job.id,
    pid,
    stdinOpen: false,
    get paused() {
      return job.state === "running" && controls.paused();
    },
    writeStdin: () => true,
    endStdin: () => {},
    resize: () => false,
    signal(name) {
      if (job.state === "done") return;
      // Pausing or resuming a command of a shell pauses or resumes the shell, which runs it (and
      // those queued behind it): a command that has not begun is not dropped for it.
      if (isPauseSignal(name)) return controls.signalShell(name);
      if (job.state === "queued") return controls.dropQueued(job, name);
      job.clientSignalled = true;
      if (name === "SIGINT") controls.interrupt();
      else controls.signalShell(name);
    },
    terminate(reason, immediately) {
      if (job.state === "done") return;
      if (job.state === "queued") return controls.dropQueued(job, "SIGKILL");
      controls.stop(job, reason, immediately);
    },
    finished,
  };
}

function elapsedMs(job: ShellJob): number {
  return Math.round(performance.now() - job.startedAt);
}

/**
 * A command that ended in a shell that lives on, from the `$?` the shell reported. 128+N reads as
 * signal N only when bunker or the client interrupted it; otherwise `exit 130` stays a code.
 */
export function describeCommandEnd(job: ShellJob, status: number, cwd: string): ShellExitFacts {
  const { code, signal } = describeExitCode(status, job.reason !== undefined || job.clientSignalled);
  const reason: ExitReason = job.reason ?? (signal ? "killed" : "exited");
  return { code, signal, reason, durationMs: elapsedMs(job), bytes: { stdout: 0, stderr: 0 }, cwd, ran: true, shellEnded: false };
}

/** A command during which the shell ended: the shell's own end is the command's (`exit 3` gives code 3). */
export function describeShellEnd(job: ShellJob, shell: ExitFacts, cwd: string): ShellExitFacts {
  const reason: ExitReason = job.reason ?? (job.clientSignalled && shell.signal ? "killed" : shell.reason);
  return {
    code: shell.code,
    signal: shell.signal,
    reason,
    durationMs: elapsedMs(job),
    ...(shell.spawnError !== undefined && { spawnError: shell.spawnError }),
    bytes: { stdout: 0, stderr: 0 },
    cwd,
    ran: true,
    shellEnded: true,
  };
}

/**
 * A command that never ran: dropped from the queue by `signal` (as if killed before it began), or
 * left waiting when the shell ended, with the `ending` of the command the shell ended during.
 */
export function describeUnrun(ending: string | Pick<ExitFacts, "code" | "signal" | "reason">, cwd: string): ShellExitFacts {
  const { code, signal, reason } = typeof ending === "string" ? { code: null, signal: ending, reason: "killed" as const } : ending;
  return { code, signal, reason, durationMs: 0, bytes: { stdout: 0, stderr: 0 }, cwd, ran: false, shellEnded: false };
}
