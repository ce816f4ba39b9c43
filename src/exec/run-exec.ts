import { closeSync } from "node:fs";
import { isPauseSignal, type ExitReason, type SignalName } from "../protocol/index.ts";
import type { SandboxBackend, SandboxCommand, SandboxPolicy } from "../sandbox/types.ts";
import { decodeReaperRecords, describeWaitStatus } from "../sandbox/reaper.ts";
import { pumpOutput, takeWithinBudget, type OutputBudget } from "./output-pump.ts";
import { createPtyFlowControl } from "./pty-flow-control.ts";
import { closeFd } from "../files/fs-calls.ts";
import { createBwrapStatusReader, readAvailable } from "./status-pipes.ts";
import { signalProcessGroup } from "./process-tree.ts";
import { createTreeSignaller } from "./tree-signals.ts";
import { cannotExecuteCode, describeExitCode, errnoName } from "./exit-facts.ts";
import { createStdinWriter, createTerminalStdinWriter, type StdinWriter } from "./stdin-writer.ts";
import type { ExecLogs, ExecRequest, ExitFacts, RunningExec } from "./exec-types.ts";
import { gateTerminalStdin, hasTerminalForeground, terminalTakers } from "./pty-stdin-gate.ts";
import { buildSpawnStdio, closeChildEnds, closeServerEnds, openCommandPipes, openInputFiles } from "./stdio-slots.ts";
import { spareFds } from "./spare-fds.ts";
import { drainTerminal, withOrphanGrace } from "./exec-endings.ts";
import { openTerminal, readHeldOutput } from "./terminal-master.ts";
import { readWrittenBytes } from "../sandbox/written-text.ts";

/** The most of bwrap's own complaint (when the sandbox could not be set up) that goes to stderr. */
const MAX_MESSAGES_BYTES = 16 * 1024;
/** A client's signals meant to end the tree: sent to a paused one, a SIGCONT follows. */
const ENDING_SIGNALS: ReadonlySet<SignalName> = new Set(["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"]);
/**
 * A client's SIGTERM and SIGHUP are followed by SIGCONT whoever stopped the tree, as systemd does
 * when it stops a unit (and the kernel for a hangup): a command that stopped itself (`kill -STOP $$`,
 * a job suspended on a terminal) kept the SIGTERM pending for ever, and `bunker exec` with it (found
 * by a review).
 */
const CONTINUED_AFTER: ReadonlySet<SignalName> = new Set(["SIGTERM", "SIGHUP"]);

/** How long a tree gets between SIGTERM and SIGKILL when bunker ends it. */
export const KILL_GRACE_MS = 1000;

export type { ExecLogs, ExecRequest, ExitFacts, RunningExec } from "./exec-types.ts";

/**
 * Whether bwrap failed before the reaper ran: it reports no record, and exits 1 (its own failure:
 * a mount point it could not make, a bind source gone), or 126 (enter could not join the setup
 * namespace). A reaper killed from outside makes bwrap exit 128+N instead, and a command's own
 * exit always comes with a record.
 */
function sandboxNotSetUp(command: SandboxCommand, waitFd: number | undefined, waitStatus: number | undefined, exitCode: number | null, killed: boolean): boolean {
  if (command.tree !== "pid-namespace" || waitFd === undefined || waitStatus !== undefined || killed) return false;
  return exitCode === 1 || exitCode === 126;
}

/** Spawns one command in the sandbox and streams its output into `logs`. Throws when the spawn itself fails. */
export function runExec(request: ExecRequest, backend: SandboxBackend, policy: SandboxPolicy, logs: ExecLogs): RunningExec {
  const command: SandboxCommand = backend.buildCommand(
    {
      argv: request.argv,
      cwd: request.cwd,
      env: request.env,
      pty: request.pty !== undefined,
      ...(request.rlimits && { rlimits: request.rlimits }),
      ...(request.protectedPaths && { protectedPaths: request.protectedPaths }),
      ...(request.network && { network: request.network }),
    },
    policy,
  );
  const startedAt = performance.now();
  let killReason: "timeout" | "killed" | "output_limit" | undefined;
  const budget: OutputBudget = { remaining: request.maxOutputBytes, onExhausted: () => terminate("output_limit", true) };

  const ptyEnded = Promise.withResolvers<void>();
  let lastPtyDataAt = 0;
  const takeTerminalOutput = (bytes: Uint8Array) => {
    lastPtyDataAt = performance.now();
    logs.stdout.append(takeWithinBudget(bytes, budget));
    flowControl?.afterAppend();
  };
  const openedTerminal = request.pty
    ? openTerminal({
        cols: request.pty.cols,
        rows: request.pty.rows,
        name: "xterm-256color",
        data: (_terminal, bytes) => takeTerminalOutput(bytes),
        exit: () => ptyEnded.resolve(),
        drain: () => terminalStdin?.drained(),
      }, request.runAs)
    : undefined;
  const terminal = openedTerminal?.terminal;
  const flowControl = terminal ? createPtyFlowControl(terminal, logs.stdout) : undefined;
  const terminalStdin = terminal ? createTerminalStdinWriter(terminal, request.onStdinTaken) : undefined;
  let proc: import("bun").Subprocess;
  let inputFds: number[] = [];
  // bwrap's own complaints, when the command's output has fds of its own: a file, read only when
  // the sandbox could not be set up (bwrap's stderr ends with bwrap, which the exit need not wait for).
  let messagesFd: number | undefined;
  // Real pipes for the command's stdin and output (os-pipe.ts); a terminal is its own.
  const pipes = terminal ? undefined : openCommandPipes(request.stdin, request.runAs);
  try {
    inputFds = openInputFiles(command, spareFds);
    if (command.outputFds) messagesFd = spareFds.takeAnonymous(new Uint8Array());
    proc = Bun.spawn(command.argv, {
      cwd: command.cwd,
      env: command.env,
      stdio: buildSpawnStdio(command, request.stdin || terminal !== undefined, inputFds, messagesFd, pipes) as ["pipe" | "ignore", "pipe", "pipe", ...("pipe" | "ignore" | number)[]],
      detached: command.detached,
      ...(terminal && { terminal }),
      ...(request.runAs && { uid: request.runAs.uid, gid: request.runAs.gid }),
    });
  } catch (error) {
    terminal?.close();
    if (messagesFd !== undefined) closeSync(messagesFd);
    if (pipes) closeServerEnds(pipes);
    throw error;
  } finally {
    // The child has its own copies now.
    for (const fd of inputFds) closeSync(fd);
    if (pipes) closeChildEnds(pipes);
  }

  const stdinPipe = pipes?.stdin;
  const stdinWriter: StdinWriter | undefined = terminalStdin
    ? gateTerminalStdin(terminalStdin, () => hasTerminalForeground(terminalTakers(command.tree, proc.pid, sandboxStatus()?.childPid)))
    : request.stdin
      ? stdinPipe
        ? createStdinWriter(Bun.file(stdinPipe.write).writer(), request.onStdinTaken, () => closeFd(stdinPipe.write))
        : createStdinWriter(proc.stdin as import("bun").FileSink, request.onStdinTaken)
      : undefined;
  let clientSignalled = false;
  /** A client's SIGSTOP holds the tree (see signal below). */
  let paused = false;
  let processExited = false;
  let stdinOpen = request.stdin || terminal !== undefined;
  const fdOf = (index: number | undefined) => (index === undefined ? undefined : (proc.stdio[index] as number | undefined));
  const jsonFd = fdOf(command.statusFds.jsonStatus);
  const waitFd = fdOf(command.statusFds.waitStatus);
  // The fds the command's output is read from, closed once read to their end: the server's ends of
  // the real pipes, or Bun's socketpairs at the backend's output fds; neither: the process's own.
  const outputFds = pipes
    ? { stdout: pipes.stdout.read, stderr: pipes.stderr.read }
    : command.outputFds && { stdout: fdOf(command.outputFds.stdout)!, stderr: fdOf(command.outputFds.stderr)! };
  const closeOutputFds = () => {
    if (!outputFds) return;
    closeFd(outputFds.stdout);
    closeFd(outputFds.stderr);
  };
  // bwrap's status, read from its pipe when a signal needs the sandbox's pid 1 (status-pipes.ts).
  const sandboxStatus = jsonFd === undefined ? () => undefined : createBwrapStatusReader(jsonFd);

  const signalTree = createTreeSignaller({
    command,
    pid: proc.pid,
    reaped: waitFd !== undefined,
    sandboxStatus,
    exited: () => processExited,
  });

  let killTimer: ReturnType<typeof setTimeout> | undefined;
  /** Settles when an ending's SIGKILL has gone out: until then the tree has its grace, every process of it. */
  let killSent: PromiseWithResolvers<void> | undefined;
  let graceOver = false;
  /**
   * signalTree, and during a grace also what a process group's leader left: signalTree sends nothing
   * once the leader has exited, and a client's SIGKILL, or a session's end, waited for the grace's
   * (found by a review: under none, a SIGKILL 10 ms into the grace ended the tree 1000 ms later).
   */
  const signalTreeOrLeftGroup = (signal: NodeJS.Signals, why?: "ending") => {
    if (processExited && command.tree === "process-group" && killSent && !graceOver) signalProcessGroup(proc.pid, signal);
    else signalTree(signal, why);
  };
  const terminate = (reason: "timeout" | "killed" | "output_limit", immediately: boolean) => {
    killReason ??= reason;
    if (immediately) {
      signalTreeOrLeftGroup("SIGKILL");
      return;
    }
    signalTree("SIGTERM", "ending");
    // A stopped process (a client's SIGSTOP) would not act on its SIGTERM until the SIGKILL: it is
    // continued, as systemd does when it stops a unit, so that the grace is its to use.
    signalTree("SIGCONT", "ending");
    paused = false;
    killSent ??= Promise.withResolvers<void>();
    killTimer ??= setTimeout(() => {
      signalTreeOrLeftGroup("SIGKILL", "ending");
      graceOver = true;
      killSent?.resolve();
    }, KILL_GRACE_MS);
  };

  const timeoutTimer = request.timeoutMs > 0 ? setTimeout(() => terminate("timeout", false), request.timeoutMs) : undefined;

  // Bun reads an fd it is given as a file without owning it: they are closed at their end, below.
  const stdoutPump = terminal
    ? { done: ptyEnded.promise.then(() => (logs.stdout.finish(), logs.stdout.end)), cancel: () => ptyEnded.resolve() }
    : pumpOutput(outputFds ? Bun.file(outputFds.stdout).stream() : (proc.stdout as ReadableStream<Uint8Array>), logs.stdout, budget);
  // With bwrap's messages apart, stderr's log stays open until it is known whether they belong in it.
  const stderrPump = terminal
    ? { done: Promise.resolve((logs.stderr.finish(), 0)), cancel: () => {} }
    : pumpOutput(outputFds ? Bun.file(outputFds.stderr).stream() : (proc.stderr as ReadableStream<Uint8Array>), logs.stderr, budget, !command.outputFds);
  const closeStatusFds = () => {
    for (const fd of [waitFd, jsonFd, messagesFd]) if (fd !== undefined) closeFd(fd);
  };

  const exited = proc.exited.then(() => {
    processExited = true;
    // The exit may be seen before the terminal's last output is read: the quiet time starts here.
    lastPtyDataAt = Math.max(lastPtyDataAt, performance.now());
    if (openedTerminal) void drainTerminal(() => lastPtyDataAt, flowControl!, () => readHeldOutput(openedTerminal, takeTerminalOutput), ptyEnded.resolve);
    // The leader is gone: whatever it left in its group goes too, so that our pipes can close; when
    // the exec is being ended, at its SIGKILL (the terminate above), as the reaper waits under bwrap.
    if (command.tree === "process-group" && !killSent) signalProcessGroup(proc.pid, "SIGKILL");
  });

  const pumps = Promise.all([stdoutPump.done, stderrPump.done]);
  // Usually both pipes have ended before the exit is seen: then the orphan grace (a timer and a
  // race, ~20 µs on the way to every exit message) has nothing to wait for.
  let pumpsEnded = false;
  pumps.then(
    () => (pumpsEnded = true),
    () => {},
  );
  const finished = (async (): Promise<ExitFacts> => {
    let recorded: Uint8Array = new Uint8Array();
    if (command.outputFds) {
      // The command's output ends when the sandbox's last process is gone, after the reaper wrote
      // its record (reaper-x86_64.S): then the exit is known, and bwrap's teardown of the
      // namespaces and its own exit (0.4 to 0.9 ms) happen after the exit message, not before.
      await pumps;
      closeOutputFds();
      recorded = readAvailable(waitFd!);
      if (decodeReaperRecords(recorded).waitStatus === undefined) {
        // No record: the reaper never ran (bwrap failed, enter could not join the namespace) or
        // was killed. bwrap's exit says which, and its complaint belongs to the exec's stderr.
        await exited;
        recorded = new Uint8Array(Buffer.concat([recorded, readAvailable(waitFd!)]));
        logs.stderr.append(takeWithinBudget(readWrittenBytes(messagesFd!, MAX_MESSAGES_BYTES), budget));
      }
      logs.stderr.finish();
    } else {
      await exited;
      if (command.tree === "process-group" && !pumpsEnded) {
        // Being ended: what the leader left has until the SIGKILL, and its output with it.
        if (killSent) await Promise.race([pumps, killSent.promise]);
        await withOrphanGrace(pumps, logs, () => {
          stdoutPump.cancel();
          stderrPump.cancel();
        });
      } else {
        await pumps;
      }
      // Both pumps have settled (read to their end, or cancelled): nothing reads these fds any more.
      closeOutputFds();
      // The reaper wrote its records before it exited, and bwrap exits after it: all are in the pipe.
      if (waitFd !== undefined) recorded = readAvailable(waitFd);
    }
    const records = decodeReaperRecords(recorded);
    // bwrap writes its status pipe until it exits, which the exit message may come before.
    if (processExited) closeStatusFds();
    else void exited.then(closeStatusFds);
    clearTimeout(timeoutTimer);
    clearTimeout(killTimer);
    terminal?.close();
    // A stdin the client never ended: its pipe is closed once the writer has let go of it.
    if (stdinPipe) stdinWriter?.end();

    // The reaper writes its record before it exits: without one under bwrap, it was killed (from the
    // host: an operator, the OOM killer), and bwrap's 128+N reports the signal N that killed it.
    const reaperKilled = command.tree === "pid-namespace" && waitFd !== undefined && records.waitStatus === undefined;
    const reported =
      records.waitStatus !== undefined
        ? describeWaitStatus(records.waitStatus)
        : proc.signalCode
          ? { code: null, signal: String(proc.signalCode) }
          : describeExitCode(proc.exitCode ?? 255, killReason !== undefined || clientSignalled || reaperKilled);
    const facts = records.execErrno !== undefined && reported.code !== null ? { ...reported, code: cannotExecuteCode(records.execErrno) } : reported;
    const reason: ExitReason = killReason ?? (facts.signal ? (clientSignalled ? "killed" : "signaled") : "exited");
    return {
      ...facts,
      reason,
      durationMs: Math.round(performance.now() - startedAt),
      ...(records.execErrno !== undefined && {
        spawnError: `${request.argv[0]}: cannot execute: ${errnoName(records.execErrno)}`,
      }),
      ...(records.execErrno === undefined && sandboxNotSetUp(command, waitFd, records.waitStatus, proc.exitCode, killReason !== undefined || clientSignalled) && {
        spawnError: `the sandbox could not be set up for ${JSON.stringify(request.argv[0])} (bwrap exited ${proc.exitCode} before the command started; bwrap's message is in stderr)`,
      }),
      bytes: { stdout: logs.stdout.end, stderr: logs.stderr.end },
    };
  })();

  return {
    id: request.id,
    pid: proc.pid,
    get stdinOpen() {
      return stdinOpen && !processExited;
    },
    get paused() {
      return paused && !processExited;
    },
    writeStdin(bytes) {
      if (!stdinOpen) return true;
      return stdinWriter ? stdinWriter.write(bytes) : true;
    },
    endStdin() {
      if (!stdinOpen) return;
      stdinOpen = false;
      stdinWriter?.end();
    },
    resize(size) {
      if (!terminal) return false;
      if (!terminal.closed) terminal.resize(size.cols, size.rows);
      return true;
    },
    signal(name) {
      // Only a signal that can end the tree makes its end the client's doing (reason "killed").
      if (!isPauseSignal(name)) clientSignalled = true;
      signalTreeOrLeftGroup(name);
      if (isPauseSignal(name)) paused = name === "SIGSTOP";
      else if ((paused && ENDING_SIGNALS.has(name)) || CONTINUED_AFTER.has(name)) {
        // A paused tree would take it only once resumed: a client's "stop" button did nothing (found
        // by a review). Resumed as at a timeout (systemd's way); SIGUSR1 and SIGUSR2 stay pending.
        signalTreeOrLeftGroup("SIGCONT");
        paused = false;
      }
    },
    terminate,
    finished,
  };
}
