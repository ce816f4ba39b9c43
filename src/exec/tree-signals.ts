import type { SandboxCommand } from "../sandbox/types.ts";
import type { BwrapStatus } from "./status-pipes.ts";
import { LOOK_EVERY_MS, LOOKS, onceFormed } from "./once-formed.ts";
import { hasChildren, processGroupExists, signalNamespace, signalProcessGroup, signalQuietly, stopNamespaceOnce } from "./process-tree.ts";


/** The exec whose tree is signalled, as the signaller reads it. */
export interface SignalledExec {
  command: SandboxCommand;
  /** The pid spawned: bwrap, or the leader of the process group. */
  pid: number;
  /** Whether a reaper reports on a status fd (it forks the command: a signal waits for that child). */
  reaped: boolean;
  /** bwrap's status, which names the sandbox's pid 1 once bwrap has said it. */
  sandboxStatus(): BwrapStatus | undefined;
  /** Whether the spawned process has exited: nothing is sent after that. */
  exited(): boolean;
}

/**
 * Sends a signal to an exec's whole tree: its process group (seatbelt, none), or every process of
 * its PID namespace (bwrap). A signal sent too early for the tree to receive it waits, a few
 * milliseconds at most, until it can.
 */
export function createTreeSignaller(exec: SignalledExec): (signal: NodeJS.Signals, why?: "ending") => void {
  // A signal to the process group right after the spawn could be lost (found by a soak: 8 of 20
  // SIGTERMs to a PTY exec under --sandbox none): the group does not exist until the PTY's setsid
  // has run, and under the reaper a catchable signal that comes before it has forked the command
  // stays pending on the reaper, which blocks signals, and the command never gets it. So the signal
  // waits, a few milliseconds at most, until the group exists and the reaper has a child.
  const signalGroupOnceFormed = (signal: NodeJS.Signals) =>
    onceFormed(
      () => exec.exited() || (processGroupExists(exec.pid) && (!exec.reaped || signal === "SIGKILL" || hasChildren(exec.pid) !== false)),
      () => {
        if (exec.exited()) return;
        // A group that never formed (a PTY exec on a host without setsid(1)): the process at least.
        if (processGroupExists(exec.pid)) signalProcessGroup(exec.pid, signal);
        else signalQuietly(exec.pid, signal);
        // The reaper leads the group (none): a stopped reaper would not see the server's end on its
        // fd 4 (the lifeline), and a server that crashed left the paused tree stopped for good.
        // It blocks every other signal and waits for no stopped child: it alone goes on.
        if (signal === "SIGSTOP" && exec.reaped) signalQuietly(exec.pid, "SIGCONT");
      },
    );

  // Each SIGSTOP or SIGCONT starts a new pause or resume: the looks of an earlier SIGSTOP stop.
  let pauses = 0;

  const signalTree = (signal: NodeJS.Signals, why?: "ending") => {
    if (signal === "SIGSTOP" || signal === "SIGCONT") pauses++;
    sendToTree(signal, why, pauses);
  };

  const sendToTree = (signal: NodeJS.Signals, why: "ending" | undefined, pause: number) => {
    if (exec.exited()) return;
    if (exec.command.tree === "process-group") {
      signalGroupOnceFormed(signal);
      return;
    }
    // Killing bwrap itself could leave the namespace behind; its pid 1 must be the target, once known.
    // A signal sent before bwrap has said where that is tries again shortly (until the exit).
    const status = exec.sandboxStatus();
    if (!status) {
      setTimeout(() => sendToTree(signal, why, pause), LOOK_EVERY_MS);
      return;
    }
    const { childPid, pidNamespace } = status;
    if (signal === "SIGSTOP") {
      // Unlike a process group's, a namespace's processes get it one by one: a child forked
      // meanwhile ran on, paused in name only (found by a review: 13 to 301 of a forking tree's
      // processes). Again until every process but the reaper is stopped, or a SIGCONT came.
      const stopping = (looksLeft: number) => {
        if (exec.exited() || pause !== pauses) return;
        const { others, running } = stopNamespaceOnce(childPid, pidNamespace);
        if ((others === 0 || running > 0) && looksLeft > 0) setTimeout(() => stopping(looksLeft - 1), LOOK_EVERY_MS);
      };
      stopping(LOOKS);
      return;
    }
    if (signal === "SIGKILL" && why === "ending") {
      // The end of a timeout's grace: every process but the reaper, which then reaps them and
      // writes the first process's status (SIGKILL to pid 1 would take that record with it). Again
      // until none is left, for a process may fork between a look and its kill.
      const sweep = (looksLeft: number) => {
        if (exec.exited() || signalNamespace(childPid, pidNamespace, "SIGKILL", true) === 0) return;
        if (looksLeft > 0) setTimeout(() => sweep(looksLeft - 1), LOOK_EVERY_MS);
        else signalNamespace(childPid, pidNamespace, "SIGKILL");
      };
      sweep(LOOKS);
      return;
    }
    if (signal === "SIGKILL") {
      signalNamespace(childPid, pidNamespace, signal);
      return;
    }
    // A catchable signal that arrives before the reaper has forked the command would reach no one
    // (pid 1, the reaper, blocks everything): retry until a process besides it exists. The reaper
    // itself is sent the signal only when the server ends the exec: a SIGTERM pending on it then
    // says so, and it leaves the rest of the tree their grace (reaper-x86_64.S).
    const ending = why === "ending";
    const deliver = (attemptsLeft: number) => {
      if (exec.exited()) return;
      const others = signalNamespace(childPid, pidNamespace, signal, !ending) - (ending ? 1 : 0);
      if (others < 1 && attemptsLeft > 0) setTimeout(() => deliver(attemptsLeft - 1), LOOK_EVERY_MS);
    };
    deliver(LOOKS);
  };
  return signalTree;
}
