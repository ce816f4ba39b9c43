import { closeSync, openSync } from "node:fs";
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
 * The stdio of a sandbox spawn: stdin, stdout, stderr, a pipe at each status fd and output fd the
 * backend asked for, the input files as already-open fds, and nothing at the fds between them. Only
 * those fds may be pipes: runExec closes exactly them after the exit, and a pipe at a gap (fd 3 when
 * the fallback's reaper reports on fd 4) leaked one socket per exec. When the command's output has
 * fds of its own (SandboxCommand.outputFds), the spawned process's stdout is nothing and its stderr
 * (bwrap's complaints) is `messagesFd`, a file, or a pipe without one. Shared with the benchmark, so
 * that its bare spawn is the same spawn.
 */
export function buildSpawnStdio(command: SandboxCommand, stdin: boolean, inputFds: readonly number[] = [], messagesFd?: number): StdioSlot[] {
  const output = command.outputFds;
  const stderr: StdioSlot = output && messagesFd !== undefined ? messagesFd : "pipe";
  const stdio: StdioSlot[] = [stdin ? "pipe" : "ignore", output ? "ignore" : "pipe", stderr];
  const place = (fd: number, what: "pipe" | number) => placeStdio(stdio, fd, what);
  for (const fd of [command.statusFds.jsonStatus, command.statusFds.waitStatus, output?.stdout, output?.stderr]) if (fd !== undefined) place(fd, "pipe");
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
