/** A child's stdio, fd by fd: a pipe, nothing, or a host fd passed as it is. */
export type StdioSlot = "pipe" | "ignore" | number;

/** Puts `what` at child fd `fd` of `stdio`, with nothing at the fds between (a pipe at a gap leaks). */
export function placeStdio(stdio: StdioSlot[], fd: number, what: StdioSlot): void {
  while (stdio.length <= fd) stdio.push("ignore");
  stdio[fd] = what;
}
