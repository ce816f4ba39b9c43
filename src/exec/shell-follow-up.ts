/**
 * Which processes a follow-up SIGINT goes to (see shell-interrupt.ts), as a pure function of two
 * snapshots of the shell's process tree: one read just before the first SIGINT, one now.
 */

/** A process of the tree as /proc named it. */
export interface FollowUpProcess {
  ppid: number;
  /** Start time in clock ticks since boot: a pid reused by another process has another. */
  startTime: string;
  /** NUL-separated argv; it changes when the process execs another program, and is empty once it has exited. */
  cmdline: string;
}

/** A process as it was when the SIGINT went out. */
export interface ProcessAtSigint extends FollowUpProcess {
  /** Whether it caught or ignored SIGINT then (read only for programs run by the shell or its subshells). */
  handlesSigint: boolean;
}

/** What the follow-up does. */
export interface FollowUps {
  /** The processes that missed the SIGINT, to send it again. */
  missed: number[];
  /**
   * Whether to ask the shell to end its command (SHELL_END_SIGNAL) before: its trap may already have
   * let the command go on, having seen the program it waited for exit by itself.
   */
  askShell: boolean;
}

/**
 * The processes that missed the SIGINT. bash takes a SIGINT only at certain points: one that reaches
 * it, or one of its subshells (a function in a pipeline, `$(...)`), just as it forks waits there
 * until the program it forked ends, and that program never got it; one that reaches a forked child
 * before it execs is lost with the handler it had from bash. A program that was exiting when the
 * SIGINT came (`cat` at the end of `echo started | cat`) exits 0, and the shell's trap, seeing that,
 * lets the command go on, as it does after a program that handled the SIGINT. So:
 *
 * - a process of the shell, or of one of its subshells (a process with the shell's argv), that was
 *   born after the SIGINT or exec'd another program since, missed it, and so did the processes born
 *   under it since;
 * - except a process born after the SIGINT under a shell (or subshell) whose program that caught or
 *   ignored the SIGINT has exited since: that shell went on, as bash does, after that program chose
 *   to exit (a background job also ignores SIGINT, but does not exit then);
 * - the shell is asked to end its command whenever a process missed it, unless such a program of
 *   its own has exited: the program it waited for cannot have handled the SIGINT, so the trap, if
 *   it let the command go on, saw a program that missed it.
 *
 * Children of other programs are left alone: a script's cleanup on SIGINT may start programs of its own.
 */
export function chooseFollowUps(shellPid: number, before: ReadonlyMap<number, ProcessAtSigint>, now: ReadonlyMap<number, FollowUpProcess>): FollowUps {
  const shellCmdline = before.get(shellPid)?.cmdline;
  if (shellCmdline === undefined) return { missed: [], askShell: false };
  const isNew = (pid: number, facts: FollowUpProcess) => {
    const earlier = before.get(pid);
    return !earlier || earlier.startTime !== facts.startTime || earlier.cmdline !== facts.cmdline;
  };
  const bornBefore = (pid: number, facts: FollowUpProcess) => before.get(pid)?.startTime === facts.startTime;
  /** A shell (or subshell) that was there at the SIGINT and still is. */
  const isOldShell = (pid: number) => {
    const facts = now.get(pid);
    return facts !== undefined && facts.cmdline === shellCmdline && !isNew(pid, facts);
  };
  const handledUnder = new Map<number, boolean>();
  /** Whether a program of `parent` that caught or ignored the SIGINT has exited since. */
  const wentOnUnder = (parent: number): boolean => {
    let wentOn = handledUnder.get(parent);
    if (wentOn === undefined) {
      wentOn = [...before].some(([pid, facts]) => {
        if (facts.ppid !== parent || !facts.handlesSigint) return false;
        const later = now.get(pid);
        return !later || later.startTime !== facts.startTime || later.cmdline === "";
      });
      handledUnder.set(parent, wentOn);
    }
    return wentOn;
  };
  const missed = new Set<number>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, facts] of now) {
      if (missed.has(pid) || !isNew(pid, facts)) continue;
      const underMissed = missed.has(facts.ppid);
      const underShell = !underMissed && isOldShell(facts.ppid) && (bornBefore(pid, facts) || !wentOnUnder(facts.ppid));
      if (!underMissed && !underShell) continue;
      missed.add(pid);
      grew = true;
    }
  }
  return { missed: [...missed], askShell: missed.size > 0 && !wentOnUnder(shellPid) };
}
