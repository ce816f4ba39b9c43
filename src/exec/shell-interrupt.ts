import { handlesSignal, ignoresSignal, readProcText, statFields, visiblePids } from "../common/proc.ts";
import { chooseFollowUps, type ProcessAtSigint } from "./shell-follow-up.ts";
import { signalQuietly } from "./process-tree.ts";

/**
 * A SIGINT can miss the command it is meant for (see chooseFollowUps for how): bash runs a trap only
 * at certain points, a child that has forked but not yet exec'd loses it, and a program that was
 * exiting anyway lets the shell go on as if it had handled it.
 *
 * So after the SIGINT, a few follow-ups look for the processes that missed it and send each one
 * SIGINT, unless it ignores SIGINT (a background job does), first asking the shell to end its
 * command when its trap may have let it go on. Linux only (it reads /proc); elsewhere the first
 * SIGINT is all there is. The same look at /proc tells whether the shell waits for a program (see
 * interruptWithFollowUp).
 */

/**
 * When, after the first SIGINT, to look for processes that missed it. The last one for a loaded
 * machine: a fresh CI clone, other tenants busy, once left `f | cat` running after 300 ms (1 round in
 * some 2,000 across this session's runs; none in 960 rounds on a quiet machine), when the subshell
 * that lost the SIGINT forked its program late. A look costs one pass over /proc, and none once the
 * command is over.
 */
const FOLLOW_UP_DELAYS_MS = [2, 10, 30, 100, 300, 1000];

interface ProcessFacts extends ProcessParent {
  /** NUL-separated argv; it changes when the process execs another program (a forked bash keeps bash's). */
  cmdline: string;
}

/** Unknown (gone meanwhile) counts as ignoring: no follow-up for it. */
function ignoresSigint(pid: number): boolean {
  return ignoresSignal(pid, "SIGINT") !== false;
}

/** Every process under `rootPid` (itself included), by host pid, with its depth below the root. */
function readTree(rootPid: number): Map<number, ProcessFacts & { depth: number }> {
  const parents = new Map<number, ProcessParent>();
  for (const pid of visiblePids()) {
    const stat = readProcText(`/proc/${pid}/stat`);
    if (!stat) continue;
    const fields = statFields(stat);
    parents.set(pid, { ppid: Number(fields[1]), startTime: fields[19] ?? "" });
  }
  return treeUnder(rootPid, parents, (pid) => readProcText(`/proc/${pid}/cmdline`));
}

/** A process's parent as /proc/<pid>/stat named it. */
export interface ProcessParent {
  ppid: number;
  /** Start time in clock ticks since boot: a pid reused by another process has another. */
  startTime: string;
}

/**
 * The processes under `rootPid` among `parents`, each with its argv from `cmdlineOf`. A process
 * whose argv can no longer be read has exited since `parents` was read, and is left out: a pass
 * that only met such processes ends the search (counting it as growth spun the server forever,
 * found by a soak of persistent shells interrupted by timeouts and output limits).
 */
export function treeUnder(
  rootPid: number,
  parents: ReadonlyMap<number, ProcessParent>,
  cmdlineOf: (pid: number) => string | undefined,
): Map<number, ProcessFacts & { depth: number }> {
  const tree = new Map<number, ProcessFacts & { depth: number }>();
  const add = (pid: number, depth: number): boolean => {
    const cmdline = cmdlineOf(pid);
    if (cmdline === undefined) return false;
    tree.set(pid, { ...parents.get(pid)!, cmdline, depth });
    return true;
  };
  if (!parents.has(rootPid)) return tree;
  add(rootPid, 0);
  // Parents do not always have lower pids (pids wrap): repeat until nothing joins.
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, facts] of parents) {
      const parent = tree.get(facts.ppid);
      if (tree.has(pid) || !parent) continue;
      if (add(pid, parent.depth + 1)) grew = true;
    }
  }
  return tree;
}

const procAvailable = readProcText("/proc/self/stat") !== undefined;

/** Where to interrupt: the process tree of the shell's exec, and how to tell the shell in it. */
export interface InterruptTarget {
  /** The host pid the exec was spawned as (bwrap, or the shell itself). */
  rootPid: number;
  /** Whether a process with this argv is the shell; the one nearest the root is taken. */
  isShell(argv: readonly string[]): boolean;
  /** Sends the first SIGINT, to the whole tree. */
  send(): void;
  /**
   * Asks the shell at `shellPid` to end its command if its trap sees the SIGINT (see
   * RUNNING_INT_TRAP in shell-script.ts). Without /proc, `shellPid` is `rootPid`: there the sandbox
   * runs the shell as the exec's own process.
   */
  endCommand(shellPid: number): void;
  /** Whether the command has ended: follow-ups stop. */
  isOver(): boolean;
}

/**
 * Whether a process waits for a child (bash in waitpid(2) for the program it runs). Unknown (no
 * wchan to read, or one the kernel hides as "0" for every process) counts as not.
 */
function waitsForChild(pid: number): boolean {
  return readProcText(`/proc/${pid}/wchan`) === "do_wait";
}

/**
 * Sends SIGINT to the tree, then follows up on the processes that missed it (see above).
 * The shell's trap decides, as bash does, from how the program it waited for ended; when the shell
 * was waiting for none (it ran builtins, and `$?` says nothing of the SIGINT), it is also asked to
 * end the command. Without /proc nothing tells whether it waits, and it is always asked.
 */
export function interruptWithFollowUp(target: InterruptTarget): void {
  if (!procAvailable) {
    target.send();
    return target.endCommand(target.rootPid);
  }
  const before = readTree(target.rootPid);
  const shell = [...before].filter(([, facts]) => target.isShell(facts.cmdline.split("\0").slice(0, -1))).sort(([, a], [, b]) => a.depth - b.depth)[0];
  // Read before the SIGINT: the program it waits for may die of it at once.
  const waiting = shell !== undefined && waitsForChild(shell[0]);
  const atSigint = shell && withSigintHandling(before, shell[0]);
  target.send();
  if (!shell || !atSigint) return;
  const [shellPid] = shell;
  if (!waiting) target.endCommand(shellPid);
  const followedUp = new Set<string>();
  for (const delayMs of FOLLOW_UP_DELAYS_MS) {
    setTimeout(() => {
      if (target.isOver()) return;
      const now = readTree(target.rootPid);
      const { missed, askShell } = chooseFollowUps(shellPid, atSigint, now);
      const toSignal = missed.filter((pid) => {
        const facts = now.get(pid)!;
        return !followedUp.has(`${pid}:${facts.startTime}:${facts.cmdline}`) && !ignoresSigint(pid);
      });
      // The shell first: the program it waits for may die of its SIGINT at once, and the shell
      // must know by then.
      if (toSignal.length > 0 && askShell) target.endCommand(shellPid);
      for (const pid of toSignal) {
        const facts = now.get(pid)!;
        followedUp.add(`${pid}:${facts.startTime}:${facts.cmdline}`);
        signalQuietly(pid, "SIGINT");
      }
    }, delayMs);
  }
}

/**
 * `before` with, for each program that the shell or one of its subshells (a process with the
 * shell's argv) runs, whether it catches or ignores SIGINT (see chooseFollowUps).
 */
function withSigintHandling(before: ReadonlyMap<number, ProcessFacts>, shellPid: number): Map<number, ProcessAtSigint> {
  const shellCmdline = before.get(shellPid)?.cmdline;
  const atSigint = new Map<number, ProcessAtSigint>();
  for (const [pid, facts] of before) {
    const ranByShell = facts.cmdline !== shellCmdline && before.get(facts.ppid)?.cmdline === shellCmdline;
    atSigint.set(pid, { ppid: facts.ppid, startTime: facts.startTime, cmdline: facts.cmdline, handlesSigint: ranByShell && facts.cmdline !== "" && handlesSignal(pid, "SIGINT") });
  }
  return atSigint;
}
