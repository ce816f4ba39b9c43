import { closeSync, fchownSync, openSync } from "node:fs";
import { closePipe, openPipe, type OsPipe } from "./os-pipe.ts";
import type { SandboxCommand } from "../sandbox/types.ts";
import { openAnonymousFile } from "./anonymous-file.ts";
import type { SpareFds } from "./spare-fds.ts";

/** A child's stdio, fd by fd: a pipe, nothing, or a host fd passed as it is. */
export type StdioSlot = "pipe" | "ignore" | number;

/** Puts `what` at child fd `fd` of `stdio`, with nothing at the fds between (a pipe at a gap leaks). */
export function placeStdio(stdio: StdioSlot[], fd: number, what: StdioSlot): void {
  while (stdio.length <= fd) stdio.push("ignore");
  stdio[fd] = what;
}

/**
 * The server's real pipes to one command (os-pipe.ts): stdin when it takes stdin, stdout and
 * stderr. The child's ends go into its stdio and are closed once it is spawned (closeChildEnds); the
 * server reads and writes its own ends and closes them when done with them.
 */
export interface CommandPipes {
  stdin?: OsPipe;
  stdout: OsPipe;
  stderr: OsPipe;
}

/**
 * Opens the pipes of a command that is not on a terminal; undefined where pipes cannot be made
 * (Bun's socketpairs then). A pipe belongs to its maker, mode 0600: one the command's user
 * (`owner`, --run-as) is to open again through /dev/stderr is given to it, as runc does for a
 * container's user.
 */
export function openCommandPipes(stdin: boolean, owner?: { uid: number; gid: number }): CommandPipes | undefined {
  const stdout = openPipe("read");
  const stderr = stdout && openPipe("read");
  const input = stderr && stdin ? openPipe("write") : undefined;
  const opened = [stdout, stderr, input].filter((pipe) => pipe !== undefined);
  try {
    if (stdout && stderr && (!stdin || input)) {
      if (owner) for (const pipe of opened) fchownSync(pipe.read, owner.uid, owner.gid);
      return { stdout, stderr, ...(input && { stdin: input }) };
    }
  } catch {
    // Not ours to give away (a server that is not root): Bun's socketpairs, as before.
  }
  for (const pipe of opened) closePipe(pipe);
  return undefined;
}

/** After the spawn: the child has its own copies of its ends. */
export function closeChildEnds(pipes: CommandPipes): void {
  if (pipes.stdin) closeSync(pipes.stdin.read);
  closeSync(pipes.stdout.write);
  closeSync(pipes.stderr.write);
}

/** When the spawn failed: the server's ends go too (the child's are closed by closeChildEnds). */
export function closeServerEnds(pipes: CommandPipes): void {
  if (pipes.stdin) closeSync(pipes.stdin.write);
  closeSync(pipes.stdout.read);
  closeSync(pipes.stderr.read);
}

/**
 * The stdio of a sandbox spawn: stdin, stdout, stderr, a pipe at each status fd, the command's
 * output at its output fds when the backend asked for them, the input files as already-open fds,
 * and nothing at the fds between them. The command's stdin and output are `pipes` (real pipes)
 * where given, else Bun's "pipe". Only the status fds and those may be Bun pipes: runExec closes
 * exactly them after the exit, and a pipe at a gap (fd 3 when the fallback's reaper reports on fd
 * 4) leaked one socket per exec. When the command's output has fds of its own
 * (SandboxCommand.outputFds), the spawned process's stdout is nothing and its stderr (bwrap's
 * complaints) is `messagesFd`, a file, or a pipe without one. Shared with the benchmark, so that its
 * bare spawn is the same spawn.
 */
export function buildSpawnStdio(command: SandboxCommand, stdin: boolean, inputFds: readonly number[] = [], messagesFd?: number, pipes?: CommandPipes): StdioSlot[] {
  const output = command.outputFds;
  const commandStdout: StdioSlot = pipes?.stdout.write ?? "pipe";
  const commandStderr: StdioSlot = pipes?.stderr.write ?? "pipe";
  const stdinSlot: StdioSlot = stdin ? (pipes?.stdin?.read ?? "pipe") : "ignore";
  const stdio: StdioSlot[] = output ? [stdinSlot, "ignore", messagesFd ?? "pipe"] : [stdinSlot, commandStdout, commandStderr];
  const place = (fd: number, what: StdioSlot) => placeStdio(stdio, fd, what);
  for (const fd of [command.statusFds.jsonStatus, command.statusFds.waitStatus]) if (fd !== undefined) place(fd, "pipe");
  if (output) {
    place(output.stdout, commandStdout);
    place(output.stderr, commandStderr);
  }
  [...(command.inputFiles ?? []), ...(command.inputData ?? [])].forEach((input, index) => place(input.fd, inputFds[index]!));
  for (const pass of command.passFds ?? []) place(pass.fd, pass.hostFd);
  return stdio;
}

/** Input files opened on the spot: the default of openInputFiles; runExec takes spareFds' instead. */
const OPEN_ON_THE_SPOT: SpareFds = { takeFile: (path) => openSync(path, "r"), takeAnonymous: openAnonymousFile };

/** Opens a command's input files, then its input data, for one spawn (each spawn needs its own read position). */
export function openInputFiles(command: SandboxCommand, opener: SpareFds = OPEN_ON_THE_SPOT): number[] {
  const fds: number[] = [];
  try {
    for (const file of command.inputFiles ?? []) fds.push(opener.takeFile(file.path));
    for (const data of command.inputData ?? []) fds.push(opener.takeAnonymous(data.bytes));
  } catch (error) {
    for (const fd of fds) closeSync(fd);
    throw error;
  }
  return fds;
}
