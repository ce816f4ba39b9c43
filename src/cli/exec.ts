import { constants } from "node:os";
import { BunkerError, connect, type ExecCommand, type ExecExit, type Session, type SignalName, type TerminalSize } from "../client/index.ts";
import { flushed, printOutput, watchOutputErrors } from "./broken-pipe.ts";
import { failureText, type ConnectContext } from "./connect-failure.ts";
import { EXEC_HELP, parseExecArgs, type ExecSettings } from "./exec-args.ts";
import { enterRawMode } from "./raw-terminal.ts";
import { ResumableExec, type ExecOutcome } from "./resumable-exec.ts";
import { forwardStdin } from "./stdin-forward.ts";
import { chooseTerminal } from "./terminal-choice.ts";

/** Exit status when bunker itself could not run the command (as ssh uses it). */
export const CLIENT_FAILURE_EXIT = 255;
/** Exit status when the server could not start the command, as a shell reports a missing program. */
export const SPAWN_FAILED_EXIT = 127;
/**
 * Exit status of a command that timed out and still exited with a code of its own (it handled the
 * server's SIGTERM, or ended just before it), as timeout(1) gives: a timed-out command exited 0 (a
 * review); one ended by the signal keeps 128 + n.
 */
export const TIMED_OUT_EXIT = 124;

/**
 * Per-stream bytes the server may send ahead of what has been written out here: a slow local
 * reader (`| less`) holds the command back instead of filling this process's memory.
 */
export const ACK_WINDOW_BYTES = 4 * 1024 * 1024;

/** Local signals passed on to the command. SIGINT comes from Ctrl-C without -t; SIGHUP from a closed terminal. */
const FORWARDED_SIGNALS: readonly SignalName[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
/**
 * Signals that ask bunker exec to end, whatever the command makes of them: `timeout`, a CI job's
 * cancel, systemd's stop, a closed terminal. A command still running STOP_GRACE_MS after the first
 * is sent SIGKILL, as docker stop and systemd do after their grace: an interactive bash ignores
 * SIGTERM, and `timeout 3 bunker exec -t -- bash` ran on until stdin ended (found by a review).
 */
const ENDING_SIGNALS: ReadonlySet<SignalName> = new Set(["SIGTERM", "SIGHUP"]);
export const STOP_GRACE_MS = 2000;

/** `bunker exec`: resolves with the exit status for main to exit with. */
export async function runExecCommand(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const settings = parseExecArgs(args, env);
  if (settings === "help") return printOutput(EXEC_HELP);
  return runRemoteCommand(settings, settings.argv);
}

/**
 * The status a local shell shows for an exit: the code, or 128 + the signal's number here; 124
 * for a command that timed out and exited with a code (TIMED_OUT_EXIT).
 */
export function exitStatus(exit: ExecExit): number {
  if (exit.code !== null) return exit.reason === "timeout" ? TIMED_OUT_EXIT : exit.code;
  const name = exit.signal ?? "";
  const number = (constants.signals as Record<string, number | undefined>)[name] ?? Number(/^SIG(\d+)$/.exec(name)?.[1] ?? NaN);
  return Number.isInteger(number) ? 128 + number : CLIENT_FAILURE_EXIT;
}

/** Runs one command with the local terminal and stdio wired to it; resolves with the exit status. */
export async function runRemoteCommand(settings: ExecSettings, command: ExecCommand): Promise<number> {
  const { pty, stdinForwarded, rawMode, warning } = chooseTerminal(settings, process.stdin.isTTY === true);
  // Before connecting: said once, whatever comes of the connection.
  if (warning) process.stderr.write(`bunker: ${warning}\n`);
  let session: Session;
  try {
    session = await connect(settings.url, { ...(settings.token !== undefined && { token: settings.token }), ...(settings.name !== undefined && { name: settings.name }) });
  } catch (error) {
    return fail(error, settings);
  }
  // The protocol takes `network: false` under none and cannot hold the command to it (PROTOCOL.md):
  // said here, where a user asked for it by name, rather than let the flag pass for enforced.
  if (settings.noNetwork && session.sandbox.backend === "none") {
    process.stderr.write("bunker: --no-network: this server runs commands without a sandbox (none), which cannot take the network away; the command has it\n");
  }
  const terminal = pty ? localTerminalSize() : undefined;
  // In raw mode a bare \n does not return to the left edge (output processing is off).
  const notice = (text: string) => void process.stderr.write(rawMode ? `\r\nbunker: ${text}\r\n` : `bunker: ${text}\n`);
  let exec: ResumableExec;
  try {
    exec = new ResumableExec(session, {
      url: settings.url,
      token: settings.token,
      tokenSource: settings.tokenSource,
      command,
      execOptions: {
        ...(Object.keys(settings.env).length > 0 && { env: settings.env }),
        ...(settings.cwd !== undefined && { cwd: settings.cwd }),
        ...(settings.timeoutMs !== undefined && { timeoutMs: settings.timeoutMs }),
        ...(settings.readOnly && { readOnly: true }),
        ...(settings.noNetwork && { network: false }),
        ...(pty ? { pty: terminal ?? { cols: 80, rows: 24 } } : { stdin: stdinForwarded }),
        ackWindowBytes: ACK_WINDOW_BYTES,
      },
      reconnectTimeoutMs: settings.reconnectTimeoutMs,
      sessionNamed: settings.name !== undefined,
      stdout: process.stdout,
      stderr: process.stderr,
      notice,
      ...(terminal && { terminalSize: () => localTerminalSize() ?? terminal }),
    });
  } catch (error) {
    await session.close();
    return fail(error, settings);
  }

  const cleanups: (() => void)[] = [];
  if (rawMode) cleanups.push(enterRawMode(process.stdin));
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  cleanups.push(() => clearTimeout(killTimer));
  for (const name of FORWARDED_SIGNALS) {
    const forward = () => {
      exec.signal(name);
      if (ENDING_SIGNALS.has(name)) killTimer ??= setTimeout(() => exec.signal("SIGKILL"), STOP_GRACE_MS);
    };
    process.on(name, forward);
    cleanups.push(() => process.off(name, forward));
  }
  if (terminal) {
    const resize = () => exec.resize(localTerminalSize() ?? terminal);
    process.on("SIGWINCH", resize);
    cleanups.push(() => process.off("SIGWINCH", resize));
  }
  // Stdin is exact across a drop when the server says what it took in (ExecInfo.stdin). When it
  // does not (an older server), piped data cut at a drop is worth a warning; keystrokes (-t) are
  // seen on the screen.
  const stdinInexact = pty ? undefined : () => notice("a stdin write was cut off by the drop and sent again: the command may get part of it twice, or miss bytes sent just before");
  if (stdinForwarded) void forwardStdin(process.stdin, exec, stdinInexact);

  // Local stdout or stderr closed (`| head`): 141, and the session is closed, which ends the command.
  const outputFailed = watchOutputErrors(CLIENT_FAILURE_EXIT);

  let outcome: Ending;
  try {
    outcome = await Promise.race([exec.outcome, outputFailed.then((status) => ({ kind: "status" as const, status }))]);
    if (outcome.kind === "status") {
      // A named session outlives this process: its command is ended here, as closing a new one ends
      // it. It ran on (held for --hold-output, then free until the detach TTL) in one of the
      // session's exec slots (found by a review). SIGTERM, as a pipe's reader going away ends a
      // writer that takes SIGPIPE.
      if (settings.name !== undefined) exec.signal("SIGTERM");
      exec.abandon();
    }
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  } catch (error) {
    outcome = { kind: "error", error };
  } finally {
    // The terminal leaves raw mode before anything more is printed.
    for (const cleanup of cleanups) cleanup();
  }
  const status = statusOf(outcome, settings);
  // A refused stdin, signal or resize only says the command no longer takes them (it exited, or is
  // exiting: the server's refusal can arrive before the exit it races with); the status says the rest.
  for (const error of exec.errors) if (error.code !== "invalid_state") process.stderr.write(`bunker: ${error.message}\n`);
  // A new session ends with the command (its workspace goes); a named one stays for the next.
  await (settings.name === undefined ? exec.session.close() : exec.session.disconnect());
  return status;
}

/** The status to exit with, printing why when the command's own status is not known. */
/** How bunker exec ends: the exec's outcome, or a status of its own (local output closed). */
type Ending = ExecOutcome | { kind: "status"; status: number };

function statusOf(outcome: Ending, context: ConnectContext): number {
  switch (outcome.kind) {
    case "exit": {
      const why = endingNotice(outcome.exit);
      if (why) process.stderr.write(`bunker: ${why}\n`);
      return exitStatus(outcome.exit);
    }
    case "status":
      return outcome.status;
    case "error":
      return fail(outcome.error, context);
    case "lost":
      process.stderr.write(`bunker: ${outcome.message}\n`);
      return CLIENT_FAILURE_EXIT;
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}

/**
 * Why the server ended the command, when it did so itself: 143 or 137 alone would read as a kill
 * from elsewhere (or the OOM killer), and output cut by the cap as the command's whole output.
 */
export function endingNotice(exit: ExecExit): string | undefined {
  // No signal: the command ended on its own before the server's signal reached it (its code stands).
  const ended = exit.signal === null ? "it ended on its own first" : `it was ended with ${exit.signal}`;
  switch (exit.reason) {
    case "timeout": {
      // A code: it handled the SIGTERM and exited, or ended just before it; which, nobody can tell.
      const how = exit.signal === null ? `it exited with code ${exit.code} (at the server's SIGTERM, or just before it): exit status ${TIMED_OUT_EXIT}` : ended;
      return `the command timed out after ${exit.durationMs} ms (--timeout-ms, or the server's limit) and ${how}`;
    }
    case "output_limit":
      return `the command's output reached the server's output limit (--max-output-bytes) and ${ended}; what it wrote after is not shown`;
    default:
      return undefined;
  }
}

/** The local terminal's size, when stdout (or stderr) is one. */
function localTerminalSize(): TerminalSize | undefined {
  const tty = process.stdout.isTTY ? process.stdout : process.stderr.isTTY ? process.stderr : undefined;
  if (!tty?.columns || !tty.rows) return undefined;
  return { cols: Math.min(tty.columns, 1000), rows: Math.min(tty.rows, 1000) };
}

/** Reports why the command could not run, in one line, and picks the exit status. */
function fail(error: unknown, context: ConnectContext): number {
  if (!(error instanceof BunkerError) && !(error instanceof TypeError)) throw error;
  process.stderr.write(`bunker: ${failureText(error, context)}\n`);
  return error instanceof BunkerError && error.code === "spawn_failed" ? SPAWN_FAILED_EXIT : CLIENT_FAILURE_EXIT;
}
