import { constants } from "node:os";
import { BunkerError, connect, type ExecCommand, type ExecExit, type ExecHandle, type OutputStream, type Session, type SignalName, type TerminalSize } from "../client/index.ts";
import { flushed, printOutput, watchOutputErrors } from "./broken-pipe.ts";
import { EXEC_HELP, parseExecArgs, type ExecSettings } from "./exec-args.ts";
import { enterRawMode } from "./raw-terminal.ts";

/** Exit status when bunker itself could not run the command (as ssh uses it). */
export const CLIENT_FAILURE_EXIT = 255;
/** Exit status when the server could not start the command, as a shell reports a missing program. */
export const SPAWN_FAILED_EXIT = 127;

/**
 * Per-stream bytes the server may send ahead of what has been written out here: a slow local
 * reader (`| less`) holds the command back instead of filling this process's memory.
 */
export const ACK_WINDOW_BYTES = 4 * 1024 * 1024;

/** Local signals passed on to the command. SIGINT comes from Ctrl-C without -t; SIGHUP from a closed terminal. */
const FORWARDED_SIGNALS: readonly SignalName[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/** `bunker exec`: resolves with the exit status for main to exit with. */
export async function runExecCommand(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const settings = parseExecArgs(args, env);
  if (settings === "help") return printOutput(EXEC_HELP);
  return runRemoteCommand(settings, settings.argv);
}

/** The status a local shell shows for an exit: the code, or 128 + the signal's number here. */
export function exitStatus(exit: ExecExit): number {
  if (exit.code !== null) return exit.code;
  const name = exit.signal ?? "";
  const number = (constants.signals as Record<string, number | undefined>)[name] ?? Number(/^SIG(\d+)$/.exec(name)?.[1] ?? NaN);
  return Number.isInteger(number) ? 128 + number : CLIENT_FAILURE_EXIT;
}

/** Runs one command with the local terminal and stdio wired to it; resolves with the exit status. */
export async function runRemoteCommand(settings: ExecSettings, command: ExecCommand): Promise<number> {
  const forwardStdin = settings.stdin === "always" || (settings.stdin === "auto" && (settings.tty || process.stdin.isTTY !== true));
  let session: Session;
  try {
    session = await connect(settings.url, { ...(settings.token !== undefined && { token: settings.token }), ...(settings.name !== undefined && { name: settings.name }) });
  } catch (error) {
    return fail(error);
  }
  const terminal = settings.tty ? localTerminalSize() : undefined;
  let handle: ExecHandle;
  try {
    handle = session.exec(command, {
      ...(Object.keys(settings.env).length > 0 && { env: settings.env }),
      ...(settings.cwd !== undefined && { cwd: settings.cwd }),
      ...(settings.timeoutMs !== undefined && { timeoutMs: settings.timeoutMs }),
      ...(settings.tty ? { pty: terminal ?? { cols: 80, rows: 24 } } : { stdin: forwardStdin }),
      ackWindowBytes: ACK_WINDOW_BYTES,
    });
  } catch (error) {
    await session.close();
    return fail(error);
  }

  const cleanups: (() => void)[] = [];
  const rawMode = settings.tty && forwardStdin && process.stdin.isTTY === true;
  if (rawMode) cleanups.push(enterRawMode(process.stdin));
  for (const name of FORWARDED_SIGNALS) {
    const forward = () => void handle.signal(name);
    process.on(name, forward);
    cleanups.push(() => process.off(name, forward));
  }
  if (terminal) {
    const resize = () => void handle.resize(localTerminalSize() ?? terminal);
    process.on("SIGWINCH", resize);
    cleanups.push(() => process.off("SIGWINCH", resize));
  }
  if (forwardStdin) void forwardLocalStdin(handle);

  // Local stdout or stderr closed (`| head`): 141, and the session is closed, which ends the command.
  const outputFailed = watchOutputErrors(CLIENT_FAILURE_EXIT);

  let outcome: { status: number } | { error: unknown };
  try {
    const finished = Promise.all([handle.exited, copyTo(handle.stdout, process.stdout), copyTo(handle.stderr, process.stderr)]);
    outcome = { status: await Promise.race([finished.then(([exit]) => exitStatus(exit)), outputFailed]) };
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  } catch (error) {
    outcome = { error };
  } finally {
    // The terminal leaves raw mode before anything more is printed.
    for (const cleanup of cleanups) cleanup();
  }
  const status = "status" in outcome ? outcome.status : fail(outcome.error);
  for (const error of handle.errors) process.stderr.write(`bunker: ${error.message}\n`);
  // A new session ends with the command (its workspace goes); a named one stays for the next.
  await (settings.name === undefined ? session.close() : session.disconnect());
  return status;
}

/** The local terminal's size, when stdout (or stderr) is one. */
function localTerminalSize(): TerminalSize | undefined {
  const tty = process.stdout.isTTY ? process.stdout : process.stderr.isTTY ? process.stderr : undefined;
  if (!tty?.columns || !tty.rows) return undefined;
  return { cols: Math.min(tty.columns, 1000), rows: Math.min(tty.rows, 1000) };
}

/** Writes a stream out as it arrives, reading no faster than the local side takes it. */
async function copyTo(stream: OutputStream, out: NodeJS.WriteStream): Promise<void> {
  for await (const chunk of stream) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", resolve));
  }
}

/**
 * Local stdin to the command, then end of file; paced by the server's stdin credit (the library's
 * write waits), so a command that reads slowly gets all of it, beside any other writer of the exec.
 * Stops quietly once the command no longer takes it.
 */
async function forwardLocalStdin(handle: ExecHandle): Promise<void> {
  try {
    for await (const chunk of process.stdin) await handle.write(chunk as Uint8Array);
    await handle.end();
  } catch {
    // The command exited or the connection closed: its exit (or failure) is reported elsewhere. A
    // refused write (printed at the end) still ends stdin, so that the command is not left waiting.
    await handle.end().catch(() => {});
  } finally {
    process.stdin.pause();
  }
}

/** Reports why the command could not run, in one line, and picks the exit status. */
function fail(error: unknown): number {
  if (!(error instanceof BunkerError) && !(error instanceof TypeError)) throw error;
  process.stderr.write(`bunker: ${error.message}\n`);
  return error instanceof BunkerError && error.code === "spawn_failed" ? SPAWN_FAILED_EXIT : CLIENT_FAILURE_EXIT;
}
